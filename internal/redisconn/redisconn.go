// Package redisconn turns PARLEY_REDIS_URL into the connection options of
// every Redis user in Parley — the event bus and presence (go-redis) and
// the media queues (asynq) — so they always talk to the same server, a
// single Redis or the master of a Sentinel group.
//
// Accepted forms:
//
//	redis://[[user]:password@]host[:port][/db]          one server (go-redis URL options apply)
//	rediss://…                                           the same over TLS
//	redis-sentinel://[[user]:password@]s1[:port][,s2[:port]…]/master[/db][?sentinel_password=…&sentinel_username=…]
//	rediss-sentinel://…                                  the same, TLS to sentinels and servers
//
// In the Sentinel form the hosts are sentinels (port 26379 if omitted), the
// first path segment is the master group name as configured in the
// sentinels (`sentinel monitor <master> …`), and the user and password
// authenticate to the Redis master and replicas, as in redis://. Sentinels
// that require their own password take it from sentinel_password. Reserved
// characters in a password are percent-encoded (%40 for @, %2C for a comma).
//
//	cfg, err := redisconn.Parse(os.Getenv("PARLEY_REDIS_URL"))
//	client := cfg.Client()        // goredis.UniversalClient; follows failovers
//	srv := asynq.NewServer(cfg.Asynq(), asynq.Config{})
package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultSentinelPort is used for a sentinel address without a port.
const DefaultSentinelPort = "26379"

// Config is a parsed PARLEY_REDIS_URL: exactly one of Single and Failover is set.
type Config struct {
	Single   *goredis.Options
	Failover *goredis.FailoverOptions
}

// Parse reads a redis://, rediss://, redis-sentinel:// or rediss-sentinel://
// URL. Its errors never contain the password.
func Parse(raw string) (Config, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(raw), "://")
	if !ok {
		return Config{}, errors.New("want redis://host:6379/0 or redis-sentinel://host1:26379,host2:26379/mymaster/0")
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "unix":
		opt, err := goredis.ParseURL(raw)
		if err != nil {
			return Config{}, redact(err, raw)
		}
		return Config{Single: opt}, nil
	case "redis-sentinel", "rediss-sentinel":
		opt, err := parseSentinel(rest, strings.ToLower(scheme) == "rediss-sentinel")
		if err != nil {
			return Config{}, err
		}
		return Config{Failover: opt}, nil
	default:
		return Config{}, fmt.Errorf("unsupported scheme %q: want redis, rediss, redis-sentinel or rediss-sentinel", scheme)
	}
}

func parseSentinel(rest string, useTLS bool) (*goredis.FailoverOptions, error) {
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	opt := &goredis.FailoverOptions{}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pass, hasPass := strings.Cut(authority[:at], ":")
		authority = authority[at+1:]
		var err error
		if opt.Username, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("bad percent-encoding in the user name")
		}
		if hasPass {
			if opt.Password, err = url.PathUnescape(pass); err != nil {
				return nil, errors.New("bad percent-encoding in the password")
			}
		}
	}
	for _, h := range strings.Split(authority, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), DefaultSentinelPort
		}
		if host == "" || strings.ContainsAny(host, " /@") {
			return nil, fmt.Errorf("sentinel address %q: want host:port", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("sentinel address %q: bad port", h)
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, net.JoinHostPort(host, port))
	}
	if len(opt.SentinelAddrs) == 0 {
		return nil, errors.New("redis-sentinel URL names no sentinel: want redis-sentinel://host1:26379,host2:26379/mymaster/0")
	}
	segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	switch len(segs) {
	case 0:
		return nil, errors.New("redis-sentinel URL names no master group: want redis-sentinel://host1:26379,host2:26379/mymaster/0")
	case 1, 2:
		name, err := url.PathUnescape(segs[0])
		if err != nil || name == "" {
			return nil, fmt.Errorf("master group %q: bad name", segs[0])
		}
		opt.MasterName = name
		if len(segs) == 2 {
			db, err := strconv.Atoi(segs[1])
			if err != nil || db < 0 {
				return nil, fmt.Errorf("database %q: want a number", segs[1])
			}
			opt.DB = db
		}
	default:
		return nil, fmt.Errorf("path /%s: want /master or /master/db", path)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("bad query string")
	}
	for k, v := range q {
		switch k {
		case "sentinel_password":
			opt.SentinelPassword = v[0]
		case "sentinel_username":
			opt.SentinelUsername = v[0]
		default:
			return nil, fmt.Errorf("unknown option %q: redis-sentinel URLs take sentinel_password and sentinel_username", k)
		}
	}
	if useTLS {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}

// redact removes the password of raw from err's text (go-redis errors may
// quote the URL).
func redact(err error, raw string) error {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return errors.New(msg)
}

// Client opens a go-redis client: a plain one, or one that asks the
// sentinels for the current master and follows failovers.
func (c Config) Client() goredis.UniversalClient {
	if c.Failover != nil {
		return goredis.NewFailoverClient(c.Failover)
	}
	return goredis.NewClient(c.Single)
}

// Asynq returns the same server as asynq connection options.
func (c Config) Asynq() asynq.RedisConnOpt {
	if f := c.Failover; f != nil {
		return asynq.RedisFailoverClientOpt{
			MasterName:       f.MasterName,
			SentinelAddrs:    f.SentinelAddrs,
			SentinelUsername: f.SentinelUsername,
			SentinelPassword: f.SentinelPassword,
			Username:         f.Username,
			Password:         f.Password,
			DB:               f.DB,
			TLSConfig:        f.TLSConfig,
		}
	}
	s := c.Single
	return asynq.RedisClientOpt{
		Network:   s.Network,
		Addr:      s.Addr,
		Username:  s.Username,
		Password:  s.Password,
		DB:        s.DB,
		TLSConfig: s.TLSConfig,
	}
}

// String describes the target without credentials, for logs and errors.
func (c Config) String() string {
	if f := c.Failover; f != nil {
		return fmt.Sprintf("master %q via sentinels %s (db %d)", f.MasterName, strings.Join(f.SentinelAddrs, ","), f.DB)
	}
	if c.Single == nil {
		return "no redis"
	}
	return fmt.Sprintf("%s (db %d)", c.Single.Addr, c.Single.DB)
}
