// Command parley is Parley's one binary: the chat server (serve), the media
// worker (worker), the all-in-one development server (dev), database
// migrations (migrate), operator tools (media, jobs, admin) and the load
// generator (bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `usage: parley <command> [flags]

commands:
  dev       run everything in one process: SQLite, embedded Redis, local object store, worker
  serve     run a chat node (Postgres, Redis, S3)
  worker    run a media worker (Postgres, Redis, S3)
  migrate   apply database migrations (Postgres, or SQLite with -data)
  jobs      list or requeue media jobs: parley jobs list|requeue
  media     process a file by hand: parley media process FILE --out DIR
  bench     WebSocket load generator against a running server
  version   print the version

Run 'parley <command> -h' for a command's flags. Every flag also reads a
PARLEY_* environment variable; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp): // -h: help was asked for and printed
			os.Exit(0)
		case errors.Is(err, errUsage): // usage printed for a missing command
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "parley: %v\n", err)
		os.Exit(1)
	}
}

// errUsage: the command line was incomplete and the usage was printed; the
// process exits 2. (-h returns flag.ErrHelp and exits 0.)
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	if def, ok := defaultAddr[cmd]; ok && wantsHelp(rest) {
		// Help goes to stdout (parley serve -h | less) and lists only the
		// settings this command uses.
		fs := newFlags(cmd, &Config{}, def)
		fs.SetOutput(stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "worker":
		return runWorker(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "jobs":
		return runJobs(ctx, rest, stdout, stderr)
	case "media":
		return runMedia(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "parley", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// defaultAddr is the listen address each server command defaults to.
var defaultAddr = map[string]string{"dev": "127.0.0.1:8080", "serve": ":8080", "worker": ":8080", "migrate": ":8080"}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if len(s.Value) > 12 {
				s.Value = s.Value[:12]
			}
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v
}
