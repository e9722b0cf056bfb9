{{/* Names and labels shared by every manifest of the chart. */}}

{{- define "s1tiling-cloud.labels" -}}
app.kubernetes.io/name: s1tiling-cloud
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The image every pod runs: repository@digest when a digest is given, else repository:tag,
the tag defaulting to the chart's appVersion. */}}
{{- define "s1tiling-cloud.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/*
A name the rendered WorkflowTemplates reference, replaced by the one of the values where they
differ. Names sit at the end of a line in the rendered YAML (`name: X`, `- X`), so only whole
values are replaced, never a longer name that starts with the same letters.
Arguments: (list TEXT DEFAULT-NAME CHOSEN-NAME).
*/}}
{{- define "s1tiling-cloud.rename" -}}
{{- $text := index . 0 -}}{{- $from := index . 1 -}}{{- $to := index . 2 -}}
{{- if eq $from $to -}}
{{- $text -}}
{{- else -}}
{{- regexReplaceAll (printf "(?m)([:-] )%s$" (regexQuoteMeta $from)) $text (printf "${1}%s" $to) -}}
{{- end -}}
{{- end }}
