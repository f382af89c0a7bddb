package loadgen

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Centrifugo is the Transport of Centrifugo's bidirectional JSON protocol
// (v6): /connection/websocket, a connect command with an HS256 JWT whose
// channels claim subscribes the user to its group's channel server-side,
// and publish commands to that channel. It lets `parley bench` drive
// Centrifugo with the same load as Parley, for the side-by-side benchmark
// in deploy/bench/fanout.sh. Publication data is {"sender_id","body"}; the
// publish reply stands for Parley's ack. The channels need
// allow_publish_for_client (deploy/bench/centrifugo.json).
type Centrifugo struct{}

// CentrifugoToken returns the HS256 connection JWT of user, valid for ttl,
// subscribing it to channel.
func CentrifugoToken(secret, user, channel string, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"sub": user, "channels": []string{channel}, "exp": time.Now().Add(ttl).Unix()})
	signing := head + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

type cfReply struct {
	ID      uint32           `json:"id"`
	Error   *json.RawMessage `json:"error"`
	Connect *struct {
		Pong bool `json:"pong"`
	} `json:"connect"`
	Publish *struct{} `json:"publish"`
	Push    *struct {
		Pub *struct {
			Data cfData `json:"data"`
		} `json:"pub"`
	} `json:"push"`
}

type cfData struct {
	SenderID string `json:"sender_id"`
	Body     string `json:"body"`
}

// Dial connects with accessToken (a CentrifugoToken) and waits for the
// connect reply.
func (Centrifugo) Dial(ctx context.Context, base *url.URL, accessToken string) (Conn, error) {
	u := *base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/connection/websocket"
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
	c := &cfConn{c: conn, pending: map[uint32]string{}}
	cmd, _ := json.Marshal(map[string]any{"id": 1, "connect": map[string]string{"token": accessToken}})
	if err := conn.Write(dctx, websocket.MessageText, cmd); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("connect: %w", err)
	}
	_, data, err := conn.Read(dctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("read connect reply: %w", err)
	}
	var r cfReply
	if json.Unmarshal(bytes.SplitN(data, []byte("\n"), 2)[0], &r) != nil || r.ID != 1 || r.Connect == nil {
		conn.CloseNow()
		return nil, fmt.Errorf("connect reply %.200s", data)
	}
	c.pong = r.Connect.Pong
	c.nextID.Store(1)
	return c, nil
}

type cfConn struct {
	c       *websocket.Conn
	pong    bool
	nextID  atomic.Uint32
	mu      sync.Mutex
	pending map[uint32]string // publish command id → body, until its reply
	queue   []Incoming        // frames of a multi-reply message not yet returned
}

func (c *cfConn) Send(ctx context.Context, m Outgoing) error {
	id := c.nextID.Add(1)
	data, err := json.Marshal(map[string]any{"id": id, "publish": map[string]any{
		"channel": m.ConversationID, "data": cfData{SenderID: m.SenderID, Body: m.Body}}})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pending[id] = m.Body
	c.mu.Unlock()
	return c.c.Write(ctx, websocket.MessageText, data)
}

func (c *cfConn) Receive(ctx context.Context) (Incoming, error) {
	for {
		if len(c.queue) > 0 {
			in := c.queue[0]
			c.queue = c.queue[1:]
			return in, nil
		}
		_, data, err := c.c.Read(ctx)
		if err != nil {
			return Incoming{}, err
		}
		// One WebSocket message may hold several replies, one per line.
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var r cfReply
			if json.Unmarshal(line, &r) != nil {
				continue
			}
			in := Incoming{Raw: line}
			switch {
			case r.ID == 0 && r.Push == nil: // a ping
				if c.pong {
					if err := c.c.Write(ctx, websocket.MessageText, []byte("{}")); err != nil {
						return Incoming{}, err
					}
				}
				continue
			case r.Push != nil && r.Push.Pub != nil:
				in.Kind, in.SenderID, in.Body = IncomingMessage, r.Push.Pub.Data.SenderID, r.Push.Pub.Data.Body
			case r.ID != 0:
				c.mu.Lock()
				body, ok := c.pending[r.ID]
				delete(c.pending, r.ID)
				c.mu.Unlock()
				switch {
				case r.Error != nil:
					in.Kind = IncomingError
				case ok && r.Publish != nil:
					in.Kind, in.Body = IncomingAck, body
				}
			}
			c.queue = append(c.queue, in)
		}
	}
}

func (c *cfConn) Close() error { return c.c.Close(websocket.StatusNormalClosure, "bench done") }

// errNoCentrifugoSecret is returned when the Centrifugo transport is chosen
// without the HMAC secret its tokens need.
var errNoCentrifugoSecret = errors.New("--centrifugo needs --centrifugo-secret (the server's client.token.hmac_secret_key)")

// centrifugoUsers makes the users of a Centrifugo run: no registration,
// ids of this run, tokens made once their channels are known.
func (b *benchRun) centrifugoUsers() {
	b.users = make([]*benchUser, b.cfg.Clients)
	for i := range b.users {
		b.users[i] = &benchUser{idx: i, id: "pb" + b.run + "-" + strconv.Itoa(i)}
	}
}

// centrifugoChannels puts the users in one channel per group and signs
// their tokens; it returns the number of channels.
func (b *benchRun) centrifugoChannels() int {
	gs := groups(b.cfg.Clients, b.cfg.GroupSize)
	ttl := b.cfg.Duration + b.cfg.Drain + b.cfg.SetupTimeout + 10*time.Minute
	for gi, g := range gs {
		ch := "pbench-" + b.run + "-" + strconv.Itoa(gi)
		for _, i := range g {
			u := b.users[i]
			u.conv, u.peers = ch, int64(len(g)-1)
			u.token = CentrifugoToken(b.cfg.CentrifugoSecret, u.id, ch, ttl)
		}
	}
	return len(gs)
}
