// Package webhook implements chatcore.Notifier by POSTing each notification
// as JSON to one URL (PARLEY_PUSH_WEBHOOK_URL), where the operator's push
// gateway turns it into an APNs/FCM wake-up. Notify only enqueues; a small
// pool of workers delivers in the background, retrying network errors, 5xx
// and 429 with exponential backoff and jitter, and giving up at once on any
// other 4xx. When the queue is full, notifications are dropped and counted:
// a push is a hint, and the message itself is safely stored.
//
// Each request carries
//
//	Content-Type: application/json
//	Idempotency-Key: {conversation_id}:{seq}:{user_id}   (same on every retry)
//	X-Parley-Signature: sha256={hex HMAC of the body}     (only with Config.Secret)
//
// and the body {"user_id":…,"conversation_id":…,"seq":…,"sender_id":…}.
//
//	n := webhook.New(webhook.Config{URL: "https://push.example.com/parley"})
//	defer n.Close(shutdownCtx) // delivers what is queued, until the deadline
//	err := n.Notify(ctx, chatcore.Notification{UserID: u, ConversationID: c, Seq: 7, SenderID: s})
package webhook
