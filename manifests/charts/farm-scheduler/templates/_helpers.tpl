{{/*
Prefix of every object name. Farm is a cluster singleton (one scheduler named farm-scheduler, one
set of CRDs, cluster-scoped RBAC), so names do not carry the release name.
*/}}
{{- define "farm.prefix" -}}
{{- .Values.namePrefix | default "farm" | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "farm.scheduler.name" -}}
{{- include "farm.prefix" . }}-scheduler
{{- end -}}

{{- define "farm.controller.name" -}}
{{- include "farm.prefix" . }}-controller
{{- end -}}

{{- define "farm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: farm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "scheduler"). */}}
{{- define "farm.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-%s" (include "farm.prefix" .root) .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* repository@digest when image.digest is set (the tag is then ignored), else repository:tag. */}}
{{- define "farm.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
A component's topologySpreadConstraints; call with (dict "constraints" LIST "selector" LABELS).
A constraint without a labelSelector gets the component's selector labels: the values cannot
know them (they carry the release name), and a constraint that selects no pod spreads nothing.
*/}}
{{- define "farm.topologySpreadConstraints" -}}
{{- $out := list -}}
{{- range .constraints -}}
{{- $c := deepCopy . -}}
{{- if not (hasKey $c "labelSelector") -}}
{{- $_ := set $c "labelSelector" (dict "matchLabels" ($.selector | fromYaml)) -}}
{{- end -}}
{{- $out = append $out $c -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
The scheduler configuration: the shipped one (manifests/scheduler/scheduler-config.yaml, copied
into files/) with the values of scheduler.config set into it, and its leader election Lease in the
release namespace. farm-scheduler validates the result at start. RBAC reads the Lease from here,
so it names the Lease the scheduler really takes.
*/}}
{{- define "farm.schedulerConfig" -}}
{{- $cfg := .Files.Get "files/scheduler-config.yaml" | fromYaml -}}
{{- $v := .Values.scheduler.config -}}
{{- $_ := set $cfg "clientConnection" (merge (dict "qps" $v.clientConnection.qps "burst" $v.clientConnection.burst) ($cfg.clientConnection | default dict)) -}}
{{- $_ = set $cfg "percentageOfNodesToScore" $v.percentageOfNodesToScore -}}
{{- $_ = set $cfg.leaderElection "resourceNamespace" .Release.Namespace -}}
{{- range $cfg.profiles -}}
{{- range .plugins.multiPoint.enabled -}}
{{- if eq .name "Farm" -}}
{{- $_ = set . "weight" $v.packing.weight -}}
{{- end -}}
{{- end -}}
{{- if not $v.packing.enabled -}}
{{- /* The profile then runs Farm at every extension point but Score. */ -}}
{{- $_ = set .plugins "score" (dict "disabled" (list (dict "name" "Farm"))) -}}
{{- end -}}
{{- range .pluginConfig -}}
{{- if eq .name "Farm" -}}
{{- $_ = set .args "triggerInterval" $v.triggerInterval -}}
{{- $_ = set .args "drivers" $v.drivers -}}
{{- $_ = set .args "maxReclaimingDrivers" $v.maxReclaimingDrivers -}}
{{- $_ = set .args "minimumRuntime" $v.minimumRuntime -}}
{{- $_ = set .args "thrashingReclaims" $v.thrashingReclaims -}}
{{- $_ = set .args "thrashingWindow" $v.thrashingWindow -}}
{{- $_ = set .args "borrowCooldown" $v.borrowCooldown -}}
{{- end -}}
{{- end -}}
{{- end -}}
# Rendered by the farm-scheduler chart: manifests/scheduler/scheduler-config.yaml with the chart's
# scheduler.config values (see the chart's values.yaml) and its Lease in the release namespace.
{{ toYaml $cfg }}
{{- end -}}


{{/*
A CEL expression, true when the request comes from a member of admissionPolicy.adminGroups: the
admission policies let these users do what they refuse to everyone else.
*/}}
{{- define "farm.isAdmin" -}}
has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in {{ .Values.admissionPolicy.adminGroups | default list | toJson }})
{{- end -}}

{{/* The PriorityClass executors opt out of their tenant's non-executor quota with. */}}
{{- define "farm.executorPriorityClass" -}}
{{- include "farm.prefix" . }}-executor
{{- end -}}
