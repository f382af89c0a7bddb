// Package inmem holds in-process implementations of chatcore.Bus and
// chatcore.Presence for unit tests and single-process tools. They share
// nothing between processes: production wiring uses chatcore/redis.
//
//	bus := inmem.NewBus()
//	svcs, err := chatcore.NewServices(chatcore.ServiceConfig{Store: store, Bus: bus, Presence: inmem.NewPresence(), ...})
package inmem
