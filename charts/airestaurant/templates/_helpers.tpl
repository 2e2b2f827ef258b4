{{/* Names, labels and the image of this chart. Selector labels are name and instance only:
a Deployment's selector cannot change after install. */}}

{{- define "airestaurant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "airestaurant.fullname" -}}
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

{{- define "airestaurant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airestaurant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "airestaurant.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "airestaurant.selectorLabels" . }}
app.kubernetes.io/version: {{ include "airestaurant.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/component: web
app.kubernetes.io/part-of: fastdining-observability
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "airestaurant.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "airestaurant.image" -}}
{{- $registry := dig "imageRegistry" "" (.Values.global | default dict) | default .Values.image.registry }}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (include "airestaurant.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "airestaurant.secretName" -}}
{{- .Values.existingSecret | default (include "airestaurant.fullname" .) }}
{{- end }}

{{- define "airestaurant.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "airestaurant.fullname" .)) }}
{{- end }}

{{- define "airestaurant.usesSqlite" -}}
{{- if not .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{/* Every name a request may carry as Host: the pod IP (probes, scrapes) and the Service's names. */}}
{{- define "airestaurant.allowedHosts" -}}
{{- $svc := include "airestaurant.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- $hosts := list "$(POD_IP)" $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) "localhost" "127.0.0.1" }}
{{- concat $hosts .Values.allowedHosts | uniq | join "," }}
{{- end }}

{{/* The environment of gunicorn and of the migrations: the same settings, the same database. */}}
{{- define "airestaurant.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: ALLOWED_HOSTS
  value: {{ include "airestaurant.allowedHosts" . | quote }}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "airestaurant.secretName" . }}
      key: secret-key
{{- if .Values.database.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.existingSecretKey }}
{{- else }}
- name: AIRESTAURANT_DATA_DIR
  value: /data
{{- end }}
- name: AIRESTAURANT_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: AIRESTAURANT_BOOM_ENABLED
  value: {{ .Values.boom.enabled | quote }}
- name: AIRESTAURANT_THREADS
  value: {{ .Values.threads | quote }}
- name: AIRESTAURANT_BIND
  value: "0.0.0.0:8900"
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "airestaurant.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "airestaurant.volumeMounts" -}}
# Python's tempfile; the root filesystem is read-only.
- name: tmp
  mountPath: /tmp
{{- if include "airestaurant.usesSqlite" . }}
# The SQLite file (AIRESTAURANT_DATA_DIR).
- name: data
  mountPath: /data
{{- end }}
{{- end }}

{{/* The NetworkPolicy's peers, from values (its ingress peers and Prometheus), and the one port
they may reach (/metrics included): templates/networkpolicy.yaml reads them. */}}
{{- define "airestaurant.networkPolicy" -}}
port: http
from: {{ concat (.Values.networkPolicy.ingressFrom | default list) (.Values.networkPolicy.metricsFrom | default list) | toJson }}
{{- end }}
