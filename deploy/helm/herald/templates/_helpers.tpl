{{/* Names, labels and the settings every service shares. */}}

{{- define "herald.fullname" -}}
{{- if contains "herald" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-herald" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one service's objects: (dict "root" $ "name" "auth-service") */}}
{{- define "herald.component" -}}
{{- printf "%s-%s" (include "herald.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: herald
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "herald.labels" -}}
{{ include "herald.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* (dict "root" $ "name" "scheduler") */}}
{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "herald.componentLabels" -}}
{{ include "herald.commonLabels" .root }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/component: {{ if hasPrefix "publisher-" .name }}publisher{{ else }}{{ .name }}{{ end }}
{{- end -}}

{{/* The settings prefix of a service (its settings.py's service_config). */}}
{{- define "herald.envPrefix" -}}
{{- if eq . "auth-service" -}}HERALD_AUTH_{{- else -}}HERALD_{{ . | replace "-" "_" | upper }}_{{- end -}}
{{- end -}}

{{- define "herald.image" -}}
{{- $tag := .svc.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .svc.image.repository $tag -}}
{{- end -}}

{{- define "herald.authUrl" -}}
{{- include "herald.serviceUrl" (dict "root" . "name" "auth-service") -}}
{{- end -}}

{{/* A service's address inside the cluster: (dict "root" $ "name" "scheduler") */}}
{{- define "herald.serviceUrl" -}}
{{- $svc := index .root.Values.services .name -}}
{{- if not (and $svc $svc.enabled) -}}
{{- fail (printf "a service calls %q, which is not an enabled service of this chart" .name) -}}
{{- end -}}
{{- printf "http://%s:%d" (include "herald.component" (dict "root" .root "name" .name)) (int $svc.port) -}}
{{- end -}}

{{/* The setting a caller reads a callee's URL from (console.settings): auth-service ->
     AUTH_URL, scheduler -> SCHEDULER_URL. */}}
{{- define "herald.urlSetting" -}}
{{- printf "%s_URL" (. | trimSuffix "-service" | replace "-" "_" | upper) -}}
{{- end -}}

{{/* Publishers' platform: publisher-facebook -> facebook */}}
{{- define "herald.platform" -}}
{{- trimPrefix "publisher-" . -}}
{{- end -}}

{{/* Topic and consumer group KEDA watches (herald.topics.TopicNames.requested,
     herald.runtime.app.PublisherRuntime.group). */}}
{{- define "herald.requestTopic" -}}
{{- printf "%spost.requested.%s" .root.Values.topicPrefix (include "herald.platform" .name) -}}
{{- end -}}
{{- define "herald.consumerGroup" -}}
{{- printf "%sherald-%s" .root.Values.topicPrefix .name -}}
{{- end -}}

{{/* Settings that name a secret must come from the Secret, never from `env` (a ConfigMap). */}}
{{- define "herald.assertNoSecretInEnv" -}}
{{- range $key, $value := .svc.env -}}
{{- if regexMatch "(SECRET|TOKEN|TOKENS|PEPPER|PASSWORD|VAULT__KEYS|MONGO_URI)$" $key -}}
{{- fail (printf "services.%s.env.%s looks like a secret: put it in the Secret %q and list it in services.%s.secretEnv" $.name $key $.root.Values.secrets.existingSecret $.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* KEDA may not run more consumers than the request topic has partitions: extra ones idle. */}}
{{- define "herald.assertScaling" -}}
{{- $consumers := mul (int .svc.scaling.maxReplicas) (int .svc.concurrency) -}}
{{- if gt $consumers (int .root.Values.topics.partitions) -}}
{{- fail (printf "services.%s: scaling.maxReplicas (%d) x concurrency (%d) = %d consumers, more than the %d partitions of %s; extra consumers would sit idle" .name (int .svc.scaling.maxReplicas) (int .svc.concurrency) $consumers (int .root.Values.topics.partitions) (include "herald.requestTopic" .)) -}}
{{- end -}}
{{- if gt (int .svc.scaling.minReplicas) (int .svc.scaling.maxReplicas) -}}
{{- fail (printf "services.%s: scaling.minReplicas is above maxReplicas" .name) -}}
{{- end -}}
{{- end -}}

{{- define "herald.networkPeers" -}}
{{- if . }}
to:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* Every topic with its partition count, in the order of herald.topics.TopicNames.plan
     (tests/deploy hold the two equal). Used for Strimzi KafkaTopic resources; the Job asks
     herald.provision, which builds the same plan from the code. */}}
{{- define "herald.topics" -}}
{{- $p := .Values.topicPrefix -}}
{{- $names := list (printf "%spost.submitted" $p) (printf "%spost.results" $p) (printf "%spost.insights" $p) (printf "%smessage.status" $p) (printf "%sintegration.events" $p) (printf "%sbusiness.events" $p) -}}
{{- range $platform := list "facebook" "instagram" "whatsapp" "tiktok" -}}
{{- $requested := printf "%spost.requested.%s" $p $platform -}}
{{- $names = append $names $requested -}}
{{- range $tier := list "10s" "1m" "10m" "1h" -}}
{{- $names = append $names (printf "%s.delay.%s" $requested $tier) -}}
{{- end -}}
{{- $names = append $names (printf "%s.dlq" $requested) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}
