// Package httpapi is Parley's HTTP and WebSocket edge: the REST API of
// accounts, conversations, messages, uploads and admin jobs, the real-time
// socket at /v1/ws, and the operational endpoints (/healthz, /readyz,
// /metrics, /openapi.json). It translates requests into calls on
// chatcore.Service, chatcore.UploadService and chatcore.JobService and maps
// chatcore error codes to HTTP statuses and WebSocket error frames in one
// table (errors.go). docs/protocol.md is the client's reference.
//
// The metrics hooks are created before the service because the service
// takes them in its config:
//
//	reg := prometheus.NewRegistry()
//	svc, _ := chatcore.NewService(chatcore.ServiceConfig{..., Hooks: httpapi.MetricsHooks(reg)})
//	srv, _ := httpapi.New(httpapi.Config{Service: svc, Registry: reg, Logger: logger})
//	httpServer := &http.Server{Handler: srv.Handler()}
//	...
//	httpServer.Shutdown(ctx) // REST requests
//	srv.Shutdown(ctx)        // sockets: close frames 1001 after in-flight sends
package httpapi
