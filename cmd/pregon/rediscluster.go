package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// Redis Cluster (issue 13 item 5): PREGON_REDIS_URL may name the seed nodes
// of a cluster,
//
//	redis+cluster://[user:password@]host1:port1,host2:port2,.../[?options]
//	rediss+cluster://...   (TLS)
//
// Each process then holds one go-redis ClusterClient, which the store, the
// rate limiter, asynq's client, server and inspector (queue sizes in
// /metrics) and asynqmon all share. A cluster has database 0 only.

const (
	clusterScheme    = "redis+cluster"
	clusterTLSScheme = "rediss+cluster"
)

// isClusterURL reports whether raw names a Redis Cluster.
func isClusterURL(raw string) bool {
	scheme, _, _ := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	return scheme == clusterScheme || scheme == clusterTLSScheme
}

// clusterOptions parses a redis+cluster:// or rediss+cluster:// URL into
// go-redis's options, or says what is wrong with it. The query takes
// go-redis's cluster options (dial_timeout, read_timeout, pool_size,
// route_by_latency, ...).
func clusterOptions(raw string) (*redis.ClusterOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !isClusterURL(raw) {
		return nil, errors.New("want redis+cluster://host:port,host:port or rediss+cluster://host:port,host:port")
	}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, errors.New("a cluster URL has no #fragment")
	}
	hostsPart, path, _ := strings.Cut(rest, "/")
	if path != "" && path != "0" {
		return nil, fmt.Errorf("a Redis Cluster has database 0 only, got /%s", path)
	}
	userinfo := ""
	if i := strings.LastIndexByte(hostsPart, '@'); i >= 0 {
		userinfo, hostsPart = hostsPart[:i+1], hostsPart[i+1:]
	}
	var addrs []string
	for _, h := range strings.Split(hostsPart, ",") {
		h = strings.TrimSpace(h)
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("want each node as host:port, got %q", h)
		}
		addrs = append(addrs, h)
	}
	// go-redis reads one address from the URL's host and the others from
	// addr= parameters.
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("bad query: %w", err)
	}
	if q.Has("addr") {
		return nil, errors.New("name the nodes in the host part, separated by commas, not with addr=")
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	base := "redis"
	if strings.EqualFold(scheme, clusterTLSScheme) {
		base = "rediss"
	}
	u := base + "://" + userinfo + addrs[0]
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	opt, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, err
	}
	opt.ContextTimeoutEnabled = true // every call honours its context's deadline, as for one Redis
	return opt, nil
}

// checkRedisURL says what is wrong with a PREGON_REDIS_URL, or returns nil.
func checkRedisURL(raw string) error {
	if isClusterURL(raw) {
		if _, err := clusterOptions(raw); err != nil {
			return fmt.Errorf("%v, got %q", err, redactCluster(raw))
		}
		return nil
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("want redis://[user:password@]host:port/db, rediss://..., or redis+cluster://host:port,host:port,... for a cluster, got %q", redact(raw))
	}
	return nil
}

// redactCluster hides the password of a cluster URL, which net/url may not
// parse (its host part holds commas).
func redactCluster(raw string) string {
	scheme, rest, _ := strings.Cut(raw, "://")
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return raw
	}
	if user, _, ok := strings.Cut(rest[:at], ":"); ok {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return raw
}

// migrateKeys renames, at start, the keys an older version of Pregón named
// otherwise (a list's keys now share a hash tag; store.MigrateKeys). Every
// process does it; it is idempotent. A key found under both names is
// logged and left alone; it stops nothing else.
func migrateKeys(ctx context.Context, st *store.Store, log *slog.Logger) {
	n, err := st.MigrateKeys(ctx)
	if n > 0 {
		log.Info("renamed keys written by an older version", "renamed", n)
	}
	if err != nil {
		log.Error("cannot migrate every key: stop every process of an older version, then restart this one", "error", err)
	}
}
