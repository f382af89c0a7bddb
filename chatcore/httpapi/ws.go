package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/chatcore"
)

// presenceTimeout bounds the presence calls made when a socket opens or
// closes.
const presenceTimeout = 5 * time.Second

// helloFrame is the first frame of every socket.
type helloFrame struct {
	Type           string    `json:"type"` // "hello"
	UserID         string    `json:"user_id"`
	ConnID         string    `json:"conn_id"`
	TokenExpiresAt time.Time `json:"token_expires_at"`
	MaxFrameBytes  int64     `json:"max_frame_bytes"`
	PingIntervalMS int64     `json:"ping_interval_ms"`
}

// handleWebSocket upgrades GET /v1/ws after checking origin and token; the
// token comes from "Authorization: Bearer" or ?access_token= (browsers
// cannot set headers on a WebSocket).
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.isClosing() {
		w.Header().Set("Retry-After", "1")
		writeCodeError(w, CodeUnavailable, "server shutting down")
		return
	}
	if err := s.checkOrigin(r); err != nil {
		writeCodeError(w, chatcore.EForbidden, err.Error())
		return
	}
	token := bearerToken(r)
	if token == "" {
		token = r.URL.Query().Get("access_token")
	}
	user, exp, err := s.authenticate(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deviceID := r.URL.Query().Get("device_id")
	if err := s.checkDevice(r.Context(), user.ID, deviceID); err != nil {
		s.writeError(w, r, err)
		return
	}
	hw := &hijackCapture{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		// checkOrigin did the same check with a JSON answer.
		OriginPatterns: s.cfg.AllowedOrigins,
	})
	if err != nil {
		// Accept has answered the client.
		s.log.Debug("websocket accept failed", "user_id", user.ID, "error", err)
		return
	}
	ws.SetReadLimit(s.cfg.MaxFrameBytes)

	rl := s.cfg.RateLimits
	frames := rate.NewLimiter(rate.Limit(rl.FramesPerSecond), rl.FramesBurst)
	if rl.FramesPerSecond < 0 || rl.FramesBurst < 0 {
		frames = rate.NewLimiter(rate.Inf, 0)
	}
	c := &wsConn{
		srv:    s,
		ws:     ws,
		raw:    hw.conn,
		user:   user,
		id:     newConnID(),
		reqID:  requestID(r.Context()),
		device: deviceID,
		frames: frames,
	}
	c.noteSession(r.Context(), token)
	if !s.addConn(c) {
		ws.Close(closeGoingAway, DefaultShutdownMessage)
		return
	}
	s.metrics.wsConnections.Inc()

	// Presence first, so that anyone told this socket exists sees the user
	// online.
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	if err := s.cfg.Presence.Connected(ctx, user.ID, c.presenceID()); err != nil {
		s.log.Error("websocket presence connect failed",
			"request_id", c.reqID, "user_id", user.ID, "conn_id", c.id, "error", err)
	}
	cancel()

	// hello is queued before the hub registration and sent only after it:
	// anything stored after the client sees hello reaches this socket, so
	// "catch up after hello" misses nothing.
	hello := chatcore.EncodeFrame(helloFrame{
		Type:           "hello",
		UserID:         user.ID,
		ConnID:         c.id,
		TokenExpiresAt: exp,
		MaxFrameBytes:  s.cfg.MaxFrameBytes,
		PingIntervalMS: s.cfg.PingInterval.Milliseconds(),
	})
	c.mu.Lock()
	c.queue = append(c.queue, hello)
	c.mu.Unlock()
	c.unregister = s.cfg.Hub.Register(c)
	c.mu.Lock()
	c.startWriterLocked()
	c.mu.Unlock()
	c.setExpiry(exp)
	c.armPing()
	s.log.Debug("websocket connected", "user_id", user.ID, "conn_id", c.id)
	// A session revoked (or an account disabled) after the check above and
	// before Register sent its close to no socket of this one: check again
	// now that this socket hears closes, so none outlives its session.
	s.recheckSession(c, token)

	// The socket lives on in a goroutine of its own: this one returns, so
	// its stack (grown by the handshake) and the request are freed. An idle
	// socket then costs one small reader goroutine and no writer.
	go c.serve()
}

// serve reads until the socket ends, then cleans up.
func (c *wsConn) serve() {
	s := c.srv
	defer s.removeConn(c)
	defer s.metrics.wsConnections.Dec()

	c.readLoop()

	// The reader ended: the peer closed, the connection broke, or a close
	// was sent (1009, or by the writer). Let the writer finish its close.
	c.unregister()
	c.requestClose(websocket.StatusNormalClosure, "")
	c.writers.Wait()
	c.ws.CloseNow()
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.ping.Stop()
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	if err := s.cfg.Presence.Disconnected(ctx, c.user.ID, c.presenceID()); err != nil {
		s.log.Error("websocket presence disconnect failed",
			"request_id", c.reqID, "user_id", c.user.ID, "conn_id", c.id, "error", err)
	}
	cancel()
	s.log.Debug("websocket disconnected", "user_id", c.user.ID, "conn_id", c.id)
}

// readLoop handles client frames until the socket closes. Reads use no
// deadline: dead peers are found by the writer's pings.
func (c *wsConn) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			if st := websocket.CloseStatus(err); st == -1 && !errors.Is(err, context.Canceled) {
				c.srv.log.Debug("websocket read ended", "user_id", c.user.ID, "conn_id", c.id, "error", err)
			}
			return
		}
		c.handling.Lock()
		if !c.draining.Load() {
			c.handleFrame(data)
		}
		c.handling.Unlock()
	}
}

// checkOrigin allows requests without Origin (native apps), from the
// request's own host, and from AllowedOrigins, matched as the WebSocket
// library does.
func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("origin %q is not a valid URL", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range s.cfg.AllowedOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not allowed", u.Host)
}

// Buffer sizes of a socket's connection. net/http hands a hijacked
// connection over with 4 KiB buffers each way; most frames are a few
// hundred bytes and larger ones bypass a buffer anyway, so smaller ones save
// about 5 KiB per socket (a quarter of an idle socket's memory).
const (
	wsReadBuffer  = 1 << 10
	wsWriteBuffer = 2 << 10
)

// hijackCapture keeps the connection the WebSocket library hijacks, so a
// socket can be dropped at once even while the library waits on a close
// handshake (which it bounds only at 5 s + 5 s), and gives the library
// smaller buffers.
type hijackCapture struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = c
	n := brw.Reader.Buffered()
	if n == 0 {
		return c, bufio.NewReadWriter(bufio.NewReaderSize(c, wsReadBuffer), bufio.NewWriterSize(c, wsWriteBuffer)), nil
	}
	// Bytes the client sent right behind the handshake: the library takes
	// what the reader has buffered, so move them into the new buffer.
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), c), max(wsReadBuffer, n))
	if _, err := br.Peek(n); err != nil {
		return nil, nil, err
	}
	return c, bufio.NewReadWriter(br, bufio.NewWriterSize(c, wsWriteBuffer)), nil
}

func (h *hijackCapture) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func newConnID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkDevice refuses a ?device_id= that is not one of the user's devices:
// a live device is not pushed, so a stranger's id must not silence it.
func (s *Server) checkDevice(ctx context.Context, userID, deviceID string) error {
	if deviceID == "" {
		return nil
	}
	if s.cfg.Devices == nil {
		return chatcore.Errorf(chatcore.EInvalid, "device_id is not supported: this server keeps no push devices")
	}
	devs, err := s.cfg.Devices.Devices(ctx, userID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.ID == deviceID {
			return nil
		}
	}
	return chatcore.Errorf(chatcore.ENotFound, "unknown device_id: register it with PUT /v1/devices first")
}

// recheckSession closes c (4012, or 4010 for a disabled account) when its
// token stopped authenticating while it connected. Other errors (the
// database briefly unreachable) leave it open: the token's expiry and the
// next revocation's close still apply.
func (s *Server) recheckSession(c *wsConn, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	_, _, err := s.cfg.Auth.Authenticate(ctx, token)
	switch chatcore.ErrorCode(err) {
	case chatcore.EUnauthorized:
		c.CloseFor(chatcore.CloseSessionRevoked)
	case chatcore.EAccountDisabled:
		c.CloseFor(chatcore.CloseAccountDisabled)
	}
}

// presenceID is the socket's id in presence: it names the device, if any,
// so that pushes skip a device while its socket is live.
func (c *wsConn) presenceID() string { return chatcore.DeviceConnID(c.id, c.device) }
