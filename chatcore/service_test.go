package chatcore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// downStore fails every user lookup as a broken database would.
type downStore struct{ nopStore }

var errStoreDown = errors.New("db: connection refused")

func (downStore) UserByID(context.Context, string) (*User, error) { return nil, errStoreDown }

// TestInternalErrorsAreReturnedNotLogged: the services wrap unexpected
// errors (with the operation and its ids) and return them; only the edge
// that answers the client logs them, once.
func TestInternalErrorsAreReturnedNotLogged(t *testing.T) {
	var logs bytes.Buffer
	s, err := NewServices(ServiceConfig{Store: downStore{}, Bus: nopBus{}, Presence: nopPresence{},
		JWTSecret: testSecret, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Users.User(context.Background(), "alice", "bob")
	if !errors.Is(err, errStoreDown) || ErrorCode(err) != EInternal || ErrorMessage(err) != "internal error" {
		t.Fatalf("got %v (code %q), want the store error wrapped as internal", err, ErrorCode(err))
	}
	if !strings.Contains(err.Error(), "get user user_id=bob") {
		t.Errorf("error %q does not name the operation and id", err)
	}
	if logs.Len() != 0 {
		t.Errorf("the service logged: %s", logs.String())
	}
	// Domain errors pass through unchanged.
	if e := Errorf(ENotFound, "x"); internalError("op", e) != error(e) {
		t.Error("a domain error was wrapped")
	}
}
