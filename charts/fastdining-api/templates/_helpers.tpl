{{/* Names, labels and the image of this chart. Selector labels are name and instance only:
a Deployment's selector cannot change after install. */}}

{{- define "fastdining-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fastdining-api.fullname" -}}
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

{{- define "fastdining-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fastdining-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fastdining-api.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fastdining-api.selectorLabels" . }}
app.kubernetes.io/version: {{ include "fastdining-api.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: fastdining-observability
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "fastdining-api.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "fastdining-api.image" -}}
{{- $registry := dig "imageRegistry" "" (.Values.global | default dict) | default .Values.image.registry }}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (include "fastdining-api.imageTag" .) }}
{{- end }}
{{- end }}

{{/* The NetworkPolicy's peers, from values (its ingress peers and Prometheus), and the one port
they may reach (/metrics included): templates/networkpolicy.yaml reads them. */}}
{{- define "fastdining-api.networkPolicy" -}}
port: http
from: {{ concat (.Values.networkPolicy.ingressFrom | default list) (.Values.networkPolicy.metricsFrom | default list) | toJson }}
{{- end }}
