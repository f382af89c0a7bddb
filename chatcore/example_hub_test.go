package chatcore_test

import (
	"fmt"

	"github.com/parley-chat/parley/chatcore"
)

// printClient is a socket that prints what it would write.
type printClient struct{ user string }

func (c printClient) UserID() string { return c.user }
func (c printClient) Enqueue(frame []byte) bool {
	fmt.Printf("%s <- %s\n", c.user, frame)
	return true
}
func (c printClient) Kick() {}

// A Hub hands each event's frame to the local sockets of its recipients.
// With no bus (nil), Publish dispatches on this node only.
func ExampleHub() {
	hub := chatcore.NewHub(nil, chatcore.Hooks{}, nil)
	unregister := hub.Register(printClient{"alice"})
	defer unregister()
	hub.Register(printClient{"bob"})

	frame := chatcore.EncodeFrame(chatcore.TypingFrame{
		Type: chatcore.FrameTyping, ConversationID: "c1", UserID: "carol", State: chatcore.TypingStart,
	})
	hub.Dispatch(chatcore.Event{Recipients: []string{"alice", "bob", "dave"}, Frame: frame})
	fmt.Println(hub.LocalConnections(), "connections")
	// Output:
	// alice <- {"type":"typing","conversation_id":"c1","user_id":"carol","state":"start"}
	// bob <- {"type":"typing","conversation_id":"c1","user_id":"carol","state":"start"}
	// 2 connections
}
