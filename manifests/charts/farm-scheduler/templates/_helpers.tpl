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

{{- define "farm.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
The shipped scheduler configuration (manifests/scheduler/scheduler-config.yaml, linked into
files/), decoded. The chart reads its leader election lease from here so RBAC names the lease the
scheduler really takes.
*/}}
{{- define "farm.schedulerConfig" -}}
{{- .Files.Get "files/scheduler-config.yaml" -}}
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
