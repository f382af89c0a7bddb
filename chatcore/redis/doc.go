// Package redis implements chatcore.Bus and chatcore.Presence on Redis, so
// that every chat node and worker sharing one Redis (a real server, or the
// in-process miniredis of `parley dev`) sees the same events and the same
// presence.
//
// The Bus publishes JSON-encoded chatcore.Events on one pub/sub channel
// ("parley:events" by default). Each Subscribe holds its own pub/sub
// connection, returns once Redis has confirmed the subscription, and
// resubscribes by itself after a Redis hiccup. Pub/sub is at-most-once:
// events published while a subscriber is reconnecting are lost, which is why
// clients catch up by seq after they reconnect.
//
// Presence keeps, per user, a sorted set of live connection ids scored by
// their expiry time. A node that dies without saying goodbye stops
// heartbeating and its entries expire on their own; connects and disconnects
// on any number of nodes report the first/last transitions atomically (Lua).
//
//	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	bus := redis.NewBus(client, redis.BusOptions{})
//	defer bus.Close()
//	err := bus.Subscribe(ctx, func(ev chatcore.Event) { hub.Deliver(ev) })
//	err = bus.Publish(ctx, chatcore.Event{Recipients: ids, Frame: frame})
//
//	presence := redis.NewPresence(client, redis.PresenceOptions{TTL: time.Minute})
//	first, err := presence.Connect(ctx, userID, connID)
package redis
