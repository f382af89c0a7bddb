// Package check holds CI checks of what deploy/ ships, in a module of its
// own so the product's go.mod does not carry Kubernetes, prometheus-operator
// and compose-spec: the Helm chart lints, renders and strictly decodes into
// the Kubernetes API types; deploy/k8s/parley.yaml is exactly what the chart
// renders; the Grafana dashboard and the alert rules parse, pass promtool and
// name only metrics (and labels) Parley exports; the compose file loads as
// `docker compose config` would and its services start in a sound order.
//
// Run: cd deploy/check && go test ./...   (make test does; helm and promtool
// come from deploy/deps.sh). After changing the chart or deploy/monitoring,
// run deploy/generate.sh.
package check
