// Package apns implements chatcore.PushSender for Apple's Push Notification
// service over HTTP/2 with token-based authentication, using
// github.com/sideshow/apns2.
//
// Authentication is a .p8 signing key (ES256) with its key id and the team
// id: each request carries "authorization: bearer <JWT>" whose header has
// alg ES256 and kid, and whose claims are iss (team id) and iat. The JWT is
// reused and regenerated after 50 minutes, inside Apple's window (no more
// than once every 20 minutes, no older than 60 minutes), and at once when
// APNs answers 403 ExpiredProviderToken.
//
// Each device names its environment: "sandbox" tokens go to
// api.sandbox.push.apple.com, "production" tokens to api.push.apple.com;
// Config.Host points both at one server (a test server).
//
//	s, err := apns.New(apns.Config{KeyPEM: p8, KeyID: "ABC123DEFG", TeamID: "DEF123GHIJ"})
//	err = s.Send(ctx, device, chatcore.Push{Kind: chatcore.PushMessage, ...})
//
// Outcomes: 200 is delivered; 410 Unregistered and 400 BadDeviceToken or
// DeviceTokenNotForTopic are chatcore.ErrPushTokenDead; 429, 5xx and
// network errors are *chatcore.PushRetryError; anything else is permanent.
package apns
