// Package httpapi is Parley's HTTP and WebSocket edge: the REST API of
// accounts, conversations, messages, uploads and admin jobs, the real-time
// socket at /v1/ws, and the operational endpoints (/healthz, /readyz,
// /metrics, /openapi.json). It translates requests into calls on
// the chat services (one interface per concern: chatcore.AuthService,
// UserService, ConversationService, MessageService, ReceiptService,
// TypingService, PresenceService), chatcore.UploadService and
// chatcore.JobService, and maps
// chatcore error codes to HTTP statuses and WebSocket error frames in one
// table (errors.go). docs/protocol.md is the client's reference.
//
// The metrics hooks are created before the service because the service
// takes them in its config:
//
//	reg := prometheus.NewRegistry()
//	svcs, _ := chatcore.NewServices(chatcore.ServiceConfig{..., Hooks: httpapi.MetricsHooks(reg)})
//	srv, _ := httpapi.New(httpapi.Config{
//		Auth: svcs.Auth, Users: svcs.Users, Conversations: svcs.Conversations,
//		Messages: svcs.Messages, Receipts: svcs.Receipts, Typing: svcs.Typing,
//		Presence: svcs.Presence, Search: svcs.Search, Edits: svcs.Edits, Hub: svcs.Hub, Registry: reg, Logger: logger,
//	})
//	httpServer := &http.Server{Handler: srv.Handler()}
//	...
//	httpServer.Shutdown(ctx) // REST requests
//	srv.Shutdown(ctx)        // sockets: close frames 1001 after in-flight sends
package httpapi
