// Package chatcore is Parley's chat domain: users and sessions, conversations,
// messages with per-conversation sequence numbers, receipts, presence, typing,
// attachments as messages carry them, and the services that act on them.
//
// The root package holds domain types, the interfaces adapters implement
// (Store, Bus, Presence, Notifier, UploadService, JobService) and the logic that
// needs no particular technology. Adapters live in subpackages named after what
// they adapt: sqlite and postgres (Store), redis (Bus, Presence), webhook
// (Notifier), httpapi (REST and WebSocket). Only cmd/parley wires them together.
//
// Attachment kinds are described once, in the kind table of mediakind.go
// (MediaKinds: content types, file extensions, default size limits, asynq
// queue and task type, task timeout, pipeline kind); packages upload and
// workers read it. A new kind is a constant and a row there.
//
// # Services, one per concern
//
// Each concern is an interface that documents the error codes it returns
// (see error.go), with one unexported implementation next to it:
//
//	AuthService          auth.go                  register, login, refresh, logout, authenticate, ensure admin
//	UserService          user_service.go          user lookup, username search
//	ConversationService  conversation_service.go  create, get, list, add and remove members
//	MessageService       message_service.go       send (stored, pushed, offline wake-ups), history
//	ReceiptService       receipt_service.go       delivered and read positions
//	TypingService        typing.go                typing indicators (never stored)
//	PresenceService      presence_service.go      sockets connected and gone, online status
//	SearchService        search_service.go        full-text search over message bodies
//
// NewServices (service.go) builds them all from one ServiceConfig over a
// shared deps struct (store, hub and bus, presence, notifier, clock,
// logger, metric hooks) and returns them in a Services, with Run (the hub)
// and Close. Page sizes and their caps are in page.go, applied by the
// services. Every frame pushed to clients goes through deps.publish.
//
// A new concern (devices and push, reactions and edits, sync, search,
// blocks and reports…) gets its own files rather than methods on an
// existing service:
//
//  1. chatcore/<concern>.go: its domain types and the store interface it
//     needs (added to Store); chatcore/<concern>_service.go: the
//     <Concern>Service interface with its error codes, and an unexported
//     implementation embedding *deps (plus its own state, or another
//     service's interface if it needs one).
//  2. service.go: a field in Services and one line in NewServices.
//  3. chatcore/httpapi: a field in Config (checked in checkServices), a
//     <concern>.go with the handlers, their routes in routes.go and
//     docs/openapi.json, and methods on the handler tests' fakeChat.
//  4. cmd/parley/chat.go: pass the field from Services to httpapi.Config.
//
// Where things are that newcomers look for:
//   - Metrics: the domain does not import Prometheus. The services call the
//     Hooks of ServiceConfig (message stored, fan-out latency, slow
//     consumer); chatcore/httpapi/metrics.go (MetricsHooks) turns them into
//     parley_messages_stored_total, parley_fanout_latency_seconds and
//     parley_ws_slow_consumers_total, next to the HTTP and socket metrics.
//   - Attachment events ("attachment" frames) are not sent by these
//     services: workers.Notify publishes them to the Bus when processing
//     ends, and every node's Hub delivers them like any other event.
//   - Event.PublishedAt is stamped in one place, Event.Stamped (called by
//     Hub.Publish and redis.Bus.Publish).
//   - Upload HTTP handlers: chatcore/httpapi/uploads.go, over UploadService
//     (implemented by package upload).
//
// Errors: services return *Error for what the client may see and wrap
// anything else with %w (an internal error). They never log those: the
// edge that answers the client (httpapi) logs each internal error once,
// with the request id, and sends only "internal error".
//
//	store, err := sqlite.Open(ctx, "data/parley.db") // then store.Migrate(ctx)
//	svcs, err := chatcore.NewServices(chatcore.ServiceConfig{
//		Store: store, Bus: bus, Presence: presence, JWTSecret: secret,
//	})
//	go svcs.Run(ctx) // the hub: bus events to this node's sockets
//	msg, created, err := svcs.Messages.Send(ctx, userID, chatcore.SendRequest{
//		ConversationID: convID, ClientID: "c-1", Body: "hi",
//	})
package chatcore
