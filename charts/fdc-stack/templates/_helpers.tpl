{{/* Names of the umbrella's own resources (the subcharts name theirs). */}}
{{- define "fdc-stack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fdc-stack.fullname" -}}
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

{{- define "fdc-stack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "fdc-stack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: fastdining-observability
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The relay's fullname, as the discord-relay chart derives it (a test compares it with the
rendered Service). */}}
{{- define "fdc-stack.relayFullname" -}}
{{- $relay := index .Values "discord-relay" }}
{{- if $relay.fullnameOverride }}
{{- $relay.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "discord-relay" $relay.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The relay's token Secret (the key `token` alone): `discord-relay.auth.existingSecret`, else
the one the relay chart creates under its fullname. */}}
{{- define "fdc-stack.relaySecretName" -}}
{{- $relay := index .Values "discord-relay" }}
{{- dig "auth" "existingSecret" "" $relay | default (include "fdc-stack.relayFullname" .) }}
{{- end }}

{{/* One Alertmanager matcher string (`name = "value"`, `name=~value`...) as an
AlertmanagerConfig matcher ({name, value, matchType}). */}}
{{- define "fdc-stack.amcMatcher" -}}
{{- $re := `^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$` }}
{{- if not (regexMatch $re .) }}
{{- fail (printf "kube-prometheus-stack.alertmanager.config: cannot translate the matcher %q into an AlertmanagerConfig" .) }}
{{- end }}
name: {{ regexReplaceAll $re . "${1}" }}
matchType: {{ regexReplaceAll $re . "${2}" | quote }}
value: {{ regexReplaceAll $re . "${3}" | quote }}
{{- end }}
