# JupyterHub (KubeSpawner) settings for a cluster shared with Farm: each user's notebook server is
# the Spark driver of the sessions it starts (client mode), so it is placed by farm-scheduler and
# labelled as a driver. On a cluster full of borrowed executors, the notebook of a tenant below its
# minimum then reclaims room for itself, and its executors follow.
#
# Put this in the hub's jupyterhub_config.py (with the Zero to JupyterHub chart:
# hub.extraConfig). One namespace per user, as `kubectl farm tenant add` makes them.
c.KubeSpawner.enable_user_namespaces = True
c.KubeSpawner.user_namespace_template = "{username}"
c.KubeSpawner.service_account = "{username}"

# farm-scheduler places the notebook. With this label it is a driver under farm-scheduler's
# default arguments (drivers: [{labelKey: spark-role, labelValue: driver}]), and the spark-driver
# Service `kubectl farm tenant add` created selects it, so executors reach the notebook.
c.KubeSpawner.scheduler_name = "farm-scheduler"
c.KubeSpawner.extra_labels = {"spark-role": "driver"}

# Alternatively keep the notebook's own labels (KubeSpawner sets component=singleuser-server) and
# add them to farm-scheduler's arguments instead:
#
#   pluginConfig:
#     - name: Farm
#       args:
#         drivers:
#           - {labelKey: spark-role, labelValue: driver}
#           - {labelKey: component, labelValue: singleuser-server}
#
# (then create the tenant with `kubectl farm tenant add NAME --driver-selector
# component=singleuser-server` so its spark-driver Service selects the notebook).

# The notebook counts against the tenant's allowance for pods that are not executors (`kubectl
# farm tenant add --non-executor-cpu/--non-executor-memory`): it must state its requests.
c.KubeSpawner.cpu_guarantee = 1
c.KubeSpawner.mem_guarantee = "4G"
