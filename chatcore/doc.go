// Package chatcore is Parley's chat domain: users and sessions, conversations,
// messages with per-conversation sequence numbers, receipts, presence, typing,
// attachments as messages carry them, and the Service that ties them together.
//
// The root package holds domain types, the interfaces adapters implement
// (Store, Bus, Presence, Notifier, UploadService, JobService) and the logic that
// needs no particular technology. Adapters live in subpackages named after what
// they adapt: sqlite and postgres (Store), redis (Bus, Presence), webhook
// (Notifier), httpapi (REST and WebSocket). Only cmd/parley wires them together.
//
//	store, err := sqlite.Open(ctx, "data/parley.db") // then store.Migrate(ctx)
//	svc, err := chatcore.NewService(chatcore.ServiceConfig{
//		Store: store, Bus: bus, Presence: presence, JWTSecret: secret,
//	})
//	go svc.Run(ctx) // the hub: bus events to this node's sockets
//	msg, created, err := svc.Send(ctx, userID, chatcore.SendRequest{
//		ConversationID: convID, ClientID: "c-1", Body: "hi",
//	})
package chatcore
