package httpapi

import (
	"context"
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
	closeInternal     = websocket.StatusInternalError // 1011
	closeTokenExpired = websocket.StatusCode(4001)    // access token expired; refresh, reconnect
	closeTokenInvalid = websocket.StatusCode(4003)    // a renewed token belongs to someone else
	closeSlowReason   = "too slow"
)

// queueKeepCap is the largest queue capacity kept after a burst: idle
// sockets hold no large buffers.
const queueKeepCap = 16

// wsConn is one socket. The reader runs in the HTTP handler's goroutine;
// writes go through a bounded queue drained by one writer goroutine, so
// the hub's Enqueue never blocks. It implements chatcore.Client.
type wsConn struct {
	srv    *Server
	ws     *websocket.Conn
	user   *chatcore.User
	id     string
	frames *rate.Limiter // non-send client frames of this socket

	mu          sync.Mutex
	queue       [][]byte
	closing     bool // close requested: no more frames are queued
	closeCode   websocket.StatusCode
	closeReason string
	expiry      *time.Timer

	wake       chan struct{} // cap 1: frames queued or close requested
	writerDone chan struct{}

	// handling is held while a client frame is being handled, so Shutdown
	// can wait for in-flight sends before closing.
	handling sync.Mutex
	draining atomic.Bool
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
	c.mu.Unlock()
	c.signal()
	return true
}

// Kick implements chatcore.Client: the hub calls it when Enqueue reported
// a full queue. What is queued is dropped and the socket closes with 1013.
func (c *wsConn) Kick() {
	c.mu.Lock()
	kicked := !c.closing
	if kicked {
		c.queue = nil
	}
	c.mu.Unlock()
	if kicked {
		c.srv.log.Info("websocket too slow, closing",
			"user_id", c.user.ID, "conn_id", c.id)
		c.requestClose(closeTooSlow, closeSlowReason)
	}
}

// send queues a frame for this socket only (ack, error, pong). A socket
// whose queue is full is kicked, as the hub would.
func (c *wsConn) send(frame []byte) {
	if !c.Enqueue(frame) {
		c.Kick()
	}
}

func (c *wsConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
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
	c.mu.Unlock()
	c.signal()
}

// drainAndClose waits for the frame being handled (an in-flight send gets
// its ack queued), stops handling new ones and closes after the queue.
func (c *wsConn) drainAndClose(code websocket.StatusCode, reason string) {
	c.handling.Lock()
	c.draining.Store(true)
	c.handling.Unlock()
	c.requestClose(code, reason)
}

// closeNow drops the connection without a close handshake.
func (c *wsConn) closeNow() { c.ws.CloseNow() }

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

// take returns the queued frames and whether a close was requested.
func (c *wsConn) take() (batch [][]byte, closing bool, code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch = c.queue
	c.queue = nil
	return batch, c.closing, c.closeCode, c.closeReason
}

// recycle hands a drained batch's backing array back to the queue when
// it is small and the queue has none, so steady traffic does not allocate
// and idle sockets keep no large array.
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

// writeLoop is the socket's only writer of data frames. It also pings the
// peer and refreshes presence every PingInterval.
func (c *wsConn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ping.C:
			go c.ping()
			continue
		case <-c.wake:
		}
		batch, closing, code, reason := c.take()
		for _, f := range batch {
			if err := c.write(f); err != nil {
				c.ws.CloseNow()
				return
			}
		}
		c.recycle(batch)
		if closing {
			c.ws.Close(code, reason)
			return
		}
	}
}

func (c *wsConn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

// ping checks the peer answers within one interval (else the socket is
// dropped) and then refreshes the presence entry of this socket.
func (c *wsConn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.PingInterval)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil {
		c.ws.CloseNow()
		return
	}
	if err := c.srv.svc.Heartbeat(ctx, c.user.ID, c.id); err != nil {
		c.srv.log.Warn("presence heartbeat failed",
			"user_id", c.user.ID, "conn_id", c.id, "error", err)
	}
}
