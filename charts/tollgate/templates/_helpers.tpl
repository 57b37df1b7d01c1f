{{/* The chart's name, or nameOverride. */}}
{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the release's objects: fullnameOverride, else the release name when it already contains the
chart's name (release "tollgate" gives "tollgate"), else "<release>-<chart>".
*/}}
{{- define "tollgate.fullname" -}}
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

{{- define "tollgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "tollgate.labels" -}}
helm.sh/chart: {{ include "tollgate.chart" . }}
{{ include "tollgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: tollgate
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select the operator's Pods: Deployment, Service, PDB, monitors, NetworkPolicy. */}}
{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is set. */}}
{{- define "tollgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The namespace the operator's namespaced rules live in: watchNamespace, or none (cluster-wide). */}}
{{- define "tollgate.namespaced" -}}
{{- if .Values.watchNamespace }}true{{ end }}
{{- end }}

{{/* Whether profiles are spread over more than one shard (--shards). */}}
{{- define "tollgate.sharded" -}}
{{- if gt (int .Values.shards) 1 }}true{{ end }}
{{- end }}

{{/*
The operator's replicas: replicaCount when set; unset, one per shard up to three with shards (each holds
some), else two (a leader and a warm standby).
*/}}
{{- define "tollgate.replicas" -}}
{{- if kindIs "invalid" .Values.replicaCount }}
{{- if include "tollgate.sharded" . }}{{ min (int .Values.shards) 3 }}{{ else }}2{{ end }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* Refuses combinations that install but cannot work. */}}
{{- define "tollgate.validate" -}}
{{- if and (gt (int (include "tollgate.replicas" .)) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: without a Lease every replica would reconcile and write" }}
{{- end }}
{{- if and (include "tollgate.sharded" .) (not .Values.leaderElection.enabled) }}
{{- fail "shards > 1 needs leaderElection.enabled: each shard is a Lease the replicas compete for" }}
{{- end }}
{{- if and (include "tollgate.sharded" .) (gt (len .Values.leaderElection.id) 63) }}
{{- fail "shards > 1 needs a leaderElection.id of at most 63 characters: it labels the shard Leases" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor selects that Service" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.networkPolicy.egress.enabled (empty .Values.networkPolicy.egress.apiServer.to) }}
{{- fail "networkPolicy.egress.enabled needs networkPolicy.egress.apiServer.to: the API server's addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes), or the operator cannot reach it" }}
{{- end }}
{{- end }}
