package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley/internal/loadgen"
)

// runBench is `parley bench`: a WebSocket load generator for a running
// server (package internal/loadgen). It talks only to --url.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Stdout, cfg.Stderr = stdout, stderr
	if cfg.CentrifugoSecret != "" {
		cfg.Transport = loadgen.Centrifugo{}
	}
	return loadgen.Run(ctx, cfg)
}

// parseBenchFlags reads and checks the bench flags.
func parseBenchFlags(args []string, stderr io.Writer) (loadgen.Config, error) {
	var c loadgen.Config
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: parley bench [flags]\n\n"+
			"Registers --clients users, puts them in conversations of --group-size, opens one\n"+
			"WebSocket each and sends --rate messages/s in total for --duration, measuring\n"+
			"ack and send→deliver latency. With --idle it only holds the sockets open.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the server under test")
	fs.IntVar(&c.Clients, "clients", 1000, "users, one socket each")
	fs.IntVar(&c.GroupSize, "group-size", 10, "members per conversation (2 = direct conversations)")
	fs.Float64Var(&c.Rate, "rate", 500, "messages per second, all clients together")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "how long to send (or, with --idle, to hold the sockets)")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "how long to wait for outstanding acks and deliveries after sending stops")
	fs.BoolVar(&c.Idle, "idle", false, "connect the sockets and hold them without sending (memory measurement)")
	fs.IntVar(&c.PID, "pid", 0, "server process id: report its RSS per connection and CPU use from /proc")
	fs.IntVar(&c.RegisterConcurrency, "register-concurrency", 8, "registrations and conversation creations in flight")
	fs.IntVar(&c.ConnectConcurrency, "connect-concurrency", 32, "WebSocket handshakes in flight")
	fs.IntVar(&c.SourceIPs, "source-ips", 1, "spread registrations over this many loopback source addresses (127.0.0.2…), as many phones would be; needs a loopback --url")
	fs.DurationVar(&c.SetupTimeout, "setup-timeout", 10*time.Minute, "bound on registering, creating conversations and connecting")
	fs.StringVar(&c.UsersFile, "users", "", "reuse the users (ids and access tokens) saved in this file by an earlier run if their tokens will outlive this run, else register and save them there; lets a restarted server be measured without registration's memory")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "with --pid, for servers without Go metrics at /metrics: pause before each RSS reading (with them, the bench waits for a GC instead)")
	fs.BoolVar(&c.NoMemory, "no-memory", false, "with --pid, report CPU only: skip the memory readings, which wait for the server's GC (up to minutes)")
	fs.StringVar(&c.CentrifugoSecret, "centrifugo-secret", "", "drive a Centrifugo v6 server at --url instead (its JSON protocol; users and channels made up, tokens signed HS256 with this key): the side-by-side benchmark, deploy/bench/fanout.sh")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, c.Validate()
}
