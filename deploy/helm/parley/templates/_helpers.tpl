{{/* Name of the release's objects: <release>-parley unless the release is already called parley. */}}
{{- define "parley.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "parley.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "chat"). */}}
{{- define "parley.selector" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "parley.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Environment shared by chat nodes and workers: secrets by reference to the operator's Secret, and whether to migrate at start. */}}
{{- define "parley.env" -}}
- name: PARLEY_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.databaseUrlKey }}}}
- name: PARLEY_REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.redisUrlKey }}}}
- name: PARLEY_JWT_SECRET
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.jwtSecretKey }}}}
- name: PARLEY_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.s3AccessKeyKey }}}}
- name: PARLEY_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.s3SecretKeyKey }}}}
{{- if .Values.secrets.pushWebhookUrlKey }}
- name: PARLEY_PUSH_WEBHOOK_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.pushWebhookUrlKey }}, optional: true}}
{{- end }}
{{- if .Values.secrets.pushWebhookSecretKey }}
- name: PARLEY_PUSH_WEBHOOK_SECRET
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.pushWebhookSecretKey }}, optional: true}}
{{- end }}
{{- if .Values.secrets.adminPasswordKey }}
- name: PARLEY_ADMIN_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.adminPasswordKey }}, optional: true}}
{{- end }}
- name: PARLEY_AUTO_MIGRATE
  value: {{ not .Values.migrations.enabled | quote }}
{{- end -}}

{{/* A topology spread list for one component. */}}
{{- define "parley.topologySpread" -}}
{{- range .list }}
- topologyKey: {{ .topologyKey }}
  maxSkew: {{ .maxSkew }}
  whenUnsatisfiable: {{ .whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "parley.selector" (dict "ctx" $.ctx "component" $.component) | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "parley.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}
