// Package fcm implements chatcore.PushSender for Firebase Cloud Messaging's
// HTTP v1 API: POST {endpoint}/v1/projects/{project_id}/messages:send with
// an OAuth2 access token obtained from a service account (the JSON key file
// Google hands out) through the JWT-bearer grant of golang.org/x/oauth2/jwt,
// cached until shortly before it expires.
//
//	s, err := fcm.New(fcm.Config{ServiceAccountJSON: key, ChannelID: "messages"})
//	err = s.Send(ctx, device, chatcore.Push{Kind: chatcore.PushMessage, ...})
//
// A message is a high-priority message with notification and data (every
// data value a string, as FCM requires) and the conversation as
// collapse_key and notification tag; an update is a normal-priority,
// data-only message.
//
// Outcomes: 200 is delivered; 404 or errorCode UNREGISTERED is
// chatcore.ErrPushTokenDead; 429 (with Retry-After), 5xx, 401 and network
// errors are *chatcore.PushRetryError; anything else is permanent.
package fcm
