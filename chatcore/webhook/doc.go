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
//	X-Parley-Timestamp: {unix seconds of this attempt}   (only with Config.Secret)
//	X-Parley-Signature: sha256={hex HMAC-SHA256(secret, timestamp + "." + body)}
//
// and the body {"user_id":…,"conversation_id":…,"seq":…,"sender_id":…}.
//
// A receiver verifies a request before trusting it: recompute the HMAC over
// the timestamp header, a dot and the raw body with the shared secret,
// compare it in constant time with the signature header, and refuse
// timestamps more than a few minutes from its own clock so a captured
// request cannot be replayed later. Verify does exactly that:
//
//	body, _ := io.ReadAll(r.Body)
//	err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp),
//		r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute)
//
// Idempotency-Key lets the receiver drop a retried request it already
// handled.
//
//	n := webhook.New(webhook.Config{URL: "https://push.example.com/parley"})
//	defer n.Close(shutdownCtx) // delivers what is queued, until the deadline
//	err := n.Notify(ctx, chatcore.Notification{UserID: u, ConversationID: c, Seq: 7, SenderID: s})
package webhook
