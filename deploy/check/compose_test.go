package check

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads deploy/compose.yaml with compose-go, the library
// `docker compose config` uses: schema validation, interpolation, merge
// keys and anchors, relative paths resolved.
func loadCompose(tb testing.TB, env ...string) (*types.Project, error) {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "deploy")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithName("parley"), cli.WithWorkingDirectory(dir), cli.WithEnv(env))
	if err != nil {
		tb.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func TestComposeNeedsJWTSecret(t *testing.T) {
	_, err := loadCompose(t)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_JWT_SECRET") {
		t.Errorf("load without PARLEY_JWT_SECRET: got %v, want an error naming it", err)
	}
}

func TestCompose(t *testing.T) {
	p, err := loadCompose(t, "PARLEY_JWT_SECRET=0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	want := []string{"chat-1", "chat-2", "migrate", "minio", "minio-init", "postgres", "redis", "worker"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services: got %v, want %v", sorted(got), want)
	}
	for _, name := range []string{"chat-1", "chat-2"} {
		if v := p.Services[name].Environment["PARLEY_WEB"]; v == nil || *v != "true" {
			t.Errorf("%s: PARLEY_WEB = %v, want \"true\" (the image carries the web client; serve it)", name, v)
		}
	}
	oneShot := map[string]bool{"migrate": true, "minio-init": true}
	subcommands := []string{"serve", "worker", "migrate"}
	for name, s := range p.Services {
		if oneShot[name] {
			if s.Restart != "no" {
				t.Errorf("%s runs once: restart %q, want \"no\"", name, s.Restart)
			}
		} else {
			if s.Restart != "unless-stopped" && s.Restart != "always" {
				t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
			}
			if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Disable {
				t.Errorf("%s: no health check", name)
			}
		}
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil {
					t.Errorf("%s waits for %s to be healthy, but %s has no health check", name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if !oneShot[dep] {
					t.Errorf("%s waits for %s to complete, but %s is long-running", name, dep, dep)
				}
			default:
				t.Errorf("%s depends on %s with condition %q: want service_healthy or service_completed_successfully", name, dep, d.Condition)
			}
		}
		if s.Image == "parley:local" {
			if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
				t.Errorf("%s: want build from deploy/Dockerfile", name)
			}
			if len(s.Command) == 0 || !slices.Contains(subcommands, s.Command[0]) {
				t.Errorf("%s: command %v is not a parley subcommand %v", name, s.Command, subcommands)
			}
			checkParleyEnv(t, p, name, s)
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s: bind mount %s: %v", name, v.Source, err)
				}
			}
			if v.Type == types.VolumeTypeVolume {
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %s is not declared", name, v.Source)
				}
			}
		}
	}
	// Nodes start only after migrations, the bucket and Redis.
	for _, name := range []string{"chat-1", "chat-2", "worker"} {
		for _, dep := range []string{"migrate", "minio-init", "redis", "minio"} {
			if _, ok := p.Services[name].DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", name, dep)
			}
		}
	}
	if _, ok := p.Services["migrate"].DependsOn["postgres"]; !ok {
		t.Error("migrate does not wait for postgres")
	}
	init := p.Services["minio-init"]
	script := strings.Join(init.Command, " ")
	for _, want := range []string{"mc mb --ignore-existing parley/parley", "mc cors set parley/parley"} {
		if !strings.Contains(script, want) {
			t.Errorf("minio-init does not run %q", want)
		}
	}
	if _, ok := p.Services["minio"].Environment["MINIO_API_CORS_ALLOW_ORIGIN"]; !ok {
		t.Error("minio: no MINIO_API_CORS_ALLOW_ORIGIN")
	}
}

// checkParleyEnv: every parley process names hosts that are services here,
// the bucket minio-init creates, and health checks on the ports it listens on.
func checkParleyEnv(t *testing.T, p *types.Project, name string, s types.ServiceConfig) {
	t.Helper()
	get := func(k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	hostIsService := func(k, hostport string) {
		host := hostport
		if u, err := url.Parse(hostport); err == nil && u.Host != "" {
			host = u.Hostname()
		} else if h, _, ok := strings.Cut(hostport, ":"); ok {
			host = h
		}
		if _, ok := p.Services[host]; !ok {
			t.Errorf("%s: %s points at %q, which is not a service", name, k, host)
		}
	}
	hostIsService("PARLEY_DATABASE_URL", get("PARLEY_DATABASE_URL"))
	if name == "migrate" {
		return
	}
	hostIsService("PARLEY_REDIS_URL", get("PARLEY_REDIS_URL"))
	hostIsService("PARLEY_S3_ENDPOINT", get("PARLEY_S3_ENDPOINT"))
	if len(get("PARLEY_JWT_SECRET")) < 32 {
		t.Errorf("%s: PARLEY_JWT_SECRET not passed through", name)
	}
	if get("PARLEY_S3_BUCKET") != "parley" {
		t.Errorf("%s: bucket %q, want the one minio-init creates (parley)", name, get("PARLEY_S3_BUCKET"))
	}
	if get("PARLEY_AUTO_MIGRATE") != "false" {
		t.Errorf("%s: PARLEY_AUTO_MIGRATE=%q, want false (the migrate service runs them)", name, get("PARLEY_AUTO_MIGRATE"))
	}
	port := strings.TrimPrefix(get("PARLEY_ADDR"), ":")
	if s.Command[0] == "worker" {
		port = strings.TrimPrefix(get("PARLEY_METRICS_ADDR"), ":")
	}
	if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "127.0.0.1:"+port+"/") {
		t.Errorf("%s: health check does not probe the port it listens on (%s)", name, port)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
