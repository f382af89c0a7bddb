package httpapi

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/chatcore"
)

// WebSocket close codes Parley sends. docs/protocol.md lists them for clients.
const (
	closeGoingAway    = websocket.StatusGoingAway     // 1001: server shutting down; reconnect
	closeTooSlow      = websocket.StatusTryAgainLater // 1013: did not keep up; reconnect and catch up
	closeTokenExpired = websocket.StatusCode(4001)    // access token expired; refresh, reconnect
	closeTokenInvalid = websocket.StatusCode(4003)    // a renewed token belongs to someone else
	closeSlowReason   = "too slow"
	// closeResyncReason goes with 1013 when the node's event bus was cut off
	// from Redis and came back: events may have been missed, nothing is
	// wrong with the client. Reconnect and catch up, as after "too slow".
	closeResyncReason = "resync"
)

// queueKeepCap is the largest queue capacity kept after a burst: idle
// sockets hold no large buffers.
const queueKeepCap = 16

// wsConn is one socket. One goroutine reads; writes go through a bounded
// queue drained by a writer goroutine that exists only while there is
// something to write, so the hub's Enqueue never blocks and an idle socket
// holds no writer stack. It implements chatcore.Client.
type wsConn struct {
	srv    *Server
	ws     *websocket.Conn
	raw    net.Conn // under ws, to drop it without waiting on the library
	user   *chatcore.User
	id     string
	reqID  string        // of the upgrade request, in every log line of the socket
	device string        // ?device_id=, checked to be the user's; "" for none
	frames *rate.Limiter // non-send client frames of this socket
	// session is the session of the socket's access token (string),
	// replaced by auth frames; SocketClose.Sessions closes by it.
	session atomic.Value

	unregister func() // from the hub

	mu          sync.Mutex
	queue       [][]byte
	writing     bool // a writer goroutine is running
	closing     bool // close requested: no more frames are queued
	closed      bool // the close frame was sent (or the socket dropped)
	closeCode   websocket.StatusCode
	closeReason string
	expiry      *time.Timer
	ping        *time.Timer

	// writers counts writer goroutines; the reader's cleanup waits for them.
	writers sync.WaitGroup

	// handling is held while a client frame is being handled, so Shutdown
	// can wait for in-flight sends before closing.
	handling sync.Mutex
	draining atomic.Bool
	// kicked makes the writer drop what it still holds: a consumer too
	// slow for its queue will not read a backlog either.
	kicked atomic.Bool
}

var _ chatcore.Client = (*wsConn)(nil)

// UserID implements chatcore.Client.
func (c *wsConn) UserID() string { return c.user.ID }

// Enqueue implements chatcore.Client: it queues a frame without blocking
// and reports false when the socket's queue is full.
func (c *wsConn) Enqueue(frame []byte) bool {
	c.mu.Lock()
	if c.closing {
		// Going away anyway: the client resyncs on reconnect.
		c.mu.Unlock()
		return true
	}
	if len(c.queue) >= c.srv.cfg.SendBuffer {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, frame)
	c.startWriterLocked()
	c.mu.Unlock()
	return true
}

// Kick implements chatcore.Client: the hub calls it when Enqueue reported
// a full queue. What is queued is dropped and the socket closes with 1013.
func (c *wsConn) Kick() {
	c.mu.Lock()
	kicked := !c.closing
	if kicked {
		c.queue = nil
		c.kicked.Store(true)
	}
	c.mu.Unlock()
	if kicked {
		c.srv.log.Info("websocket too slow, closing",
			"user_id", c.user.ID, "conn_id", c.id)
		c.requestClose(closeTooSlow, closeSlowReason)
	}
}

var _ chatcore.Resyncer = (*wsConn)(nil)

// Resync implements chatcore.Resyncer: the hub closes every socket after
// its bus resubscribed. What is queued is dropped (the client catches up)
// and the socket closes with 1013 "resync".
func (c *wsConn) Resync() {
	c.mu.Lock()
	closing := c.closing
	if !closing {
		c.queue = nil
		c.kicked.Store(true)
	}
	c.mu.Unlock()
	if !closing {
		c.srv.log.Debug("websocket closed to resync", "user_id", c.user.ID, "conn_id", c.id)
		c.requestClose(closeTooSlow, closeResyncReason)
	}
}

// send queues a frame for this socket only (ack, error, pong). A socket
// whose queue is full is kicked, as the hub would.
func (c *wsConn) send(frame []byte) {
	if !c.Enqueue(frame) {
		c.Kick()
	}
}

// startWriterLocked starts the writer goroutine unless one runs or the
// close frame is out. c.mu must be held.
func (c *wsConn) startWriterLocked() {
	if c.writing || c.closed {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// requestClose makes the writer flush what is queued, then send a close
// frame with code. The first request wins.
func (c *wsConn) requestClose(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.closeCode, c.closeReason = true, code, reason
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.startWriterLocked()
	c.mu.Unlock()
}

// drainAndClose waits for the frame being handled (an in-flight send gets
// its ack queued), stops handling new ones and closes after the queue.
func (c *wsConn) drainAndClose(code websocket.StatusCode, reason string) {
	c.handling.Lock()
	c.draining.Store(true)
	c.handling.Unlock()
	c.requestClose(code, reason)
}

// closeNow drops the connection at once, without a close handshake and
// without waiting for one in progress; the reader then ends.
func (c *wsConn) closeNow() {
	if c.raw != nil {
		c.raw.Close()
		return
	}
	go c.ws.CloseNow()
}

// setExpiry (re)arms the close at the access token's expiry.
func (c *wsConn) setExpiry(exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.expiry = time.AfterFunc(exp.Sub(c.srv.cfg.Clock.Now()), func() {
		c.requestClose(closeTokenExpired, "token expired")
	})
}

// next returns the queued frames, or with none queued whether to close
// now; with nothing to do it marks the writer stopped (under c.mu, so an
// Enqueue racing with it starts a new one).
func (c *wsConn) next() (batch [][]byte, closeNow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 {
		batch = c.queue
		c.queue = nil
		return batch, false
	}
	if c.closing {
		c.closed = true
		return nil, true
	}
	c.writing = false
	return nil, false
}

// recycle hands a drained batch's backing array back to the queue when it
// is small and the queue has none, so steady traffic does not allocate and
// idle sockets keep no large array.
func (c *wsConn) recycle(batch [][]byte) {
	if cap(batch) > queueKeepCap {
		return
	}
	clear(batch)
	c.mu.Lock()
	if c.queue == nil && !c.closing {
		c.queue = batch[:0]
	}
	c.mu.Unlock()
}

// writeLoop writes queued frames until none are left, then exits; after a
// close request it flushes the queue and sends the close frame.
func (c *wsConn) writeLoop() {
	defer c.writers.Done()
	for {
		batch, closeNow := c.next()
		if closeNow {
			c.mu.Lock()
			code, reason := c.closeCode, c.closeReason
			c.mu.Unlock()
			c.ws.Close(code, reason)
			return
		}
		if batch == nil {
			return
		}
		for _, f := range batch {
			if c.kicked.Load() {
				break
			}
			if err := c.write(f); err != nil {
				c.mu.Lock()
				c.closing, c.closed, c.writing, c.queue = true, true, false, nil
				c.mu.Unlock()
				c.closeNow()
				return
			}
		}
		if c.raw != nil {
			// Pings and the close frame bring their own timeouts.
			_ = c.raw.SetWriteDeadline(time.Time{})
		}
		c.recycle(batch)
	}
}

// write sends one frame within WriteTimeout. On a hijacked connection the
// bound is a write deadline on it, renewed per frame: a context with a
// timeout would cost a timer, a context and the library's AfterFunc for
// every frame of every recipient.
func (c *wsConn) write(frame []byte) error {
	if c.raw != nil {
		if err := c.raw.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout)); err != nil {
			return err
		}
		return c.ws.Write(context.Background(), websocket.MessageText, frame)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

// armPing schedules the keepalive: every PingInterval, in a goroutine of
// the timer's own.
func (c *wsConn) armPing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ping = time.AfterFunc(c.srv.cfg.PingInterval, c.pingOnce)
}

// pingOnce checks the peer answers within one interval (else the socket is
// dropped), refreshes the presence entry of this socket and schedules the
// next ping.
func (c *wsConn) pingOnce() {
	c.mu.Lock()
	done := c.closing
	c.mu.Unlock()
	if done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.PingInterval)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil {
		c.closeNow()
		return
	}
	c.mu.Lock()
	done = c.closing
	c.mu.Unlock()
	if done {
		return
	}
	if err := c.srv.cfg.Presence.Heartbeat(ctx, c.user.ID, c.id); err != nil {
		c.srv.log.Warn("presence heartbeat failed",
			"request_id", c.reqID, "user_id", c.user.ID, "conn_id", c.id, "error", err)
	}
	c.mu.Lock()
	if !c.closing {
		c.ping.Reset(c.srv.cfg.PingInterval)
	}
	c.mu.Unlock()
}
