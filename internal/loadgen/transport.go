package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// Transport opens the real-time connection of one load generator user.
// WebSocket speaks Parley's own protocol (docs/protocol.md); another
// protocol (Centrifugo's, say) is another Transport.
type Transport interface {
	// Dial connects as the user holding accessToken to the server at base
	// and returns once the server greeted the connection.
	Dial(ctx context.Context, base *url.URL, accessToken string) (Conn, error)
}

// Conn is one user's open connection.
type Conn interface {
	// Send asks the server to store and fan out one message.
	Send(ctx context.Context, m Outgoing) error
	// Receive blocks for the next frame from the server; an error means
	// the connection is gone.
	Receive(ctx context.Context) (Incoming, error)
	// Close ends the connection normally; a blocked Receive returns.
	Close() error
}

// Outgoing is a message the load generator sends.
type Outgoing struct {
	ClientID       string // idempotency key
	SenderID       string // the sending user (Parley knows it from the token)
	ConversationID string
	Body           string
}

// IncomingKind is what a received frame means to the load generator.
type IncomingKind int

// The kinds of frame the load generator counts; it ignores the others.
const (
	IncomingOther   IncomingKind = iota
	IncomingAck                  // the server stored one of our messages
	IncomingMessage              // a message fanned out to this user
	IncomingError                // the server refused something
)

// Incoming is a frame received from the server.
type Incoming struct {
	Kind     IncomingKind
	SenderID string // of the message (ack and message)
	Body     string // of the message (ack and message)
	Raw      []byte // the frame as received, for error reports
}

// WebSocket is the Transport of Parley's WebSocket protocol: GET /v1/ws
// with the access token, a hello frame first, then send/ack/message frames.
type WebSocket struct{}

type wsFrame struct {
	Type    string `json:"type"`
	Message struct {
		SenderID string `json:"sender_id"`
		Body     string `json:"body"`
	} `json:"message"`
}

type wsSend struct {
	Type           string `json:"type"`
	ClientID       string `json:"client_id"`
	ConversationID string `json:"conversation_id"`
	Body           string `json:"body"`
}

// Dial opens /v1/ws and waits for the hello frame.
func (WebSocket) Dial(ctx context.Context, base *url.URL, accessToken string) (Conn, error) {
	u := *base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/v1/ws"
	u.RawQuery = url.Values{"access_token": {accessToken}}.Encode()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("status %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	_, data, err := conn.Read(dctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("read hello: %w", err)
	}
	var hello wsFrame
	if json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
		conn.CloseNow()
		return nil, fmt.Errorf("first frame %.100s, want hello", data)
	}
	return wsConn{conn}, nil
}

type wsConn struct{ c *websocket.Conn }

func (w wsConn) Send(ctx context.Context, m Outgoing) error {
	data, err := json.Marshal(wsSend{Type: "send", ClientID: m.ClientID, ConversationID: m.ConversationID, Body: m.Body})
	if err != nil {
		return err
	}
	return w.c.Write(ctx, websocket.MessageText, data)
}

func (w wsConn) Receive(ctx context.Context) (Incoming, error) {
	for {
		_, data, err := w.c.Read(ctx)
		if err != nil {
			return Incoming{}, err
		}
		var f wsFrame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		in := Incoming{SenderID: f.Message.SenderID, Body: f.Message.Body, Raw: data}
		switch f.Type {
		case "ack":
			in.Kind = IncomingAck
		case "message":
			in.Kind = IncomingMessage
		case "error":
			in.Kind = IncomingError
		}
		return in, nil
	}
}

func (w wsConn) Close() error { return w.c.Close(websocket.StatusNormalClosure, "bench done") }
