package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/parley-chat/parley/internal/sqlstore"
)

// startPprof serves net/http/pprof on addr, a loopback address only:
// profiles show request data and cost CPU, so they are never public (reach
// them with an SSH tunnel or kubectl port-forward).
func (a *app) startPprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("PARLEY_PPROF_ADDR %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("PARLEY_PPROF_ADDR %q: want a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("pprof server stopped", "error", err)
		}
	}()
	a.onClose("pprof", func(ctx context.Context) error { return srv.Shutdown(ctx) })
	a.logger.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}

// groupCommitter is a store with sqlstore's group commit.
type groupCommitter interface {
	SetGroupCommit(sqlstore.GroupCommit)
}

// setGroupCommit applies PARLEY_GROUP_COMMIT and PARLEY_GROUP_COMMIT_LINGER.
func (a *app) setGroupCommit(store any) {
	if gc, ok := store.(groupCommitter); ok {
		gc.SetGroupCommit(sqlstore.GroupCommit{Off: !a.cfg.GroupCommit, Linger: a.cfg.GroupCommitLinger})
	}
}
