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
{{- printf "%s:%s" .Values.image.repository (include "discord-relay.imageTag" .) }}
{{- end }}

{{/* The Secret with `token` and (optionally) `webhook-url`: an output the umbrella hands to
Alertmanager and Grafana. */}}
{{- define "discord-relay.secretName" -}}
{{- .Values.existingSecret | default (include "discord-relay.fullname" .) }}
{{- end }}

{{- define "discord-relay.hasWebhook" -}}
{{- if .Values.existingSecret }}{{ if .Values.existingSecretHasWebhookUrl }}true{{ end }}
{{- else if .Values.discord.webhookUrl }}true{{ end }}
{{- end }}
