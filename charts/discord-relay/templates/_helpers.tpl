{{/* Names, labels and the image of this chart. Selector labels are name and instance only:
a Deployment's selector cannot change after install. */}}

{{- define "discord-relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "discord-relay.fullname" -}}
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

{{- define "discord-relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "discord-relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "discord-relay.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "discord-relay.selectorLabels" . }}
app.kubernetes.io/version: {{ include "discord-relay.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/component: alert-relay
app.kubernetes.io/part-of: fastdining-observability
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "discord-relay.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "discord-relay.image" -}}
{{- $registry := dig "imageRegistry" "" (.Values.global | default dict) | default .Values.image.registry }}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (include "discord-relay.imageTag" .) }}
{{- end }}
{{- end }}

{{/* The Secret with `token` only: an output the umbrella hands to Alertmanager (mounted whole)
and Grafana, so it holds nothing else. */}}
{{- define "discord-relay.tokenSecretName" -}}
{{- .Values.auth.existingSecret | default (include "discord-relay.fullname" .) }}
{{- end }}

{{/* The Secret with `webhook-url`, read by the relay alone. */}}
{{- define "discord-relay.webhookSecretName" -}}
{{- .Values.discord.existingSecret | default (printf "%s-webhook" (include "discord-relay.fullname" .) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{- define "discord-relay.hasWebhook" -}}
{{- if or .Values.discord.existingSecret .Values.discord.webhookUrl }}true{{ end }}
{{- end }}

{{/* The NetworkPolicy's peers, from values (Alertmanager, Grafana and Prometheus), and the one port
they may reach (/metrics included): templates/networkpolicy.yaml reads them. */}}
{{- define "discord-relay.networkPolicy" -}}
port: http
from: {{ concat (.Values.networkPolicy.clientsFrom | default list) (.Values.networkPolicy.metricsFrom | default list) | toJson }}
{{- end }}
