{{/* Names, labels and the image of this chart. Selector labels are name and instance only:
a Deployment's selector cannot change after install. */}}

{{- define "sloalert-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sloalert-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sloalert-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sloalert-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sloalert-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sloalert-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ include "sloalert-operator.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: fastdining-observability
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sloalert-operator.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "sloalert-operator.image" -}}
{{- $registry := dig "imageRegistry" "" (.Values.global | default dict) | default .Values.image.registry }}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (include "sloalert-operator.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "sloalert-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- .Values.serviceAccount.name | default (include "sloalert-operator.fullname" .) }}
{{- else }}
{{- .Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* The rules both modes share; RBAC's table in operator/README.md says why each is needed. */}}
{{- define "sloalert-operator.namespacedRules" -}}
# kopf's watch of SLOAlerts; patch for kopf's annotations (last handled spec, retry progress).
- apiGroups: ["slo.fastdining.dev"]
  resources: ["sloalerts"]
  verbs: ["list", "watch", "patch"]
# The SLOAlert's status.
- apiGroups: ["slo.fastdining.dev"]
  resources: ["sloalerts/status"]
  verbs: ["patch"]
# The generated rules: the drift watch, reading a rule before a repair, server-side apply
# (create when missing) and a merge patch of the spec.
- apiGroups: ["monitoring.coreos.com"]
  resources: ["prometheusrules"]
  verbs: ["get", "list", "watch", "create", "patch"]
# The Selected condition: which Prometheus loads the rule.
- apiGroups: ["monitoring.coreos.com"]
  resources: ["prometheuses"]
  verbs: ["list", "watch"]
# The Selected condition: which ThanosRuler loads the rule (same selectors as a Prometheus).
- apiGroups: ["monitoring.coreos.com"]
  resources: ["thanosrulers"]
  verbs: ["list", "watch"]
# Events on SLOAlerts (InvalidSpec, ApplyFailed, ...).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* The NetworkPolicy's peers, from values (Prometheus), and the one port
they may reach (/metrics included): templates/networkpolicy.yaml reads them. */}}
{{- define "sloalert-operator.networkPolicy" -}}
port: metrics
from: {{ .Values.networkPolicy.metricsFrom | default list | toJson }}
{{- end }}
