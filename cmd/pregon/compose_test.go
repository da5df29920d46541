package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of a compose file these tests read.
type composeFile struct {
	Services map[string]struct {
		Image           string            `yaml:"image"`
		Command         []string          `yaml:"command"`
		Profiles        []string          `yaml:"profiles"`
		Environment     map[string]string `yaml:"environment"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
		Volumes         []string          `yaml:"volumes"`
	} `yaml:"services"`
}

func readCompose(t *testing.T, path string) composeFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestComposeFiles checks the deployment files against each other and
// against the binary: every Pregón service runs a subcommand that exists, the
// proxy of the "many" profile sends to API services that exist, and workers
// are given more time to stop than their own shutdown takes, so that a
// rolling upgrade never kills a send half way.
func TestComposeFiles(t *testing.T) {
	main := readCompose(t, "../../docker-compose.yml")
	workers := readCompose(t, "../../deploy/worker.compose.yml")

	// Longest a worker takes to stop: asynq's shutdown timeout, then the
	// drain of handed-back deliveries (serve.go).
	const workerStop = 10*time.Second + 5*time.Second
	known := []string{"serve", "api", "worker"}
	for file, c := range map[string]composeFile{"docker-compose.yml": main, "deploy/worker.compose.yml": workers} {
		for name, svc := range c.Services {
			if svc.Image != "pregon:local" {
				continue
			}
			if len(svc.Command) == 0 || !slices.Contains(known, svc.Command[0]) {
				t.Errorf("%s: service %s runs %q, not one of %v", file, name, svc.Command, known)
				continue
			}
			if svc.Command[0] != "worker" {
				continue
			}
			grace, err := time.ParseDuration(svc.StopGracePeriod)
			if err != nil || grace <= workerStop {
				t.Errorf("%s: worker service %s has stop_grace_period %q; want more than %s, or Docker kills it mid-send", file, name, svc.StopGracePeriod, workerStop)
			}
		}
	}

	// A worker on another machine must share the API machine's secrets and
	// Redis: each is required (compose's ${VAR:?message}), never defaulted.
	w, ok := workers.Services["pregon-worker"]
	if !ok {
		t.Fatal("deploy/worker.compose.yml has no pregon-worker service")
	}
	for _, v := range []string{"PREGON_REDIS_URL", "PREGON_SECRET", "PREGON_FROM", "PREGON_PUBLIC_URL", "PREGON_SMTP_URL"} {
		if !strings.HasPrefix(w.Environment[v], "${"+v+":?") {
			t.Errorf("deploy/worker.compose.yml: %s = %q; want it required from .env (${%s:?...})", v, w.Environment[v], v)
		}
	}

	// The proxy's upstreams are the API services of the "many" profile.
	caddy, err := os.ReadFile("../../deploy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*reverse_proxy\s+([^{]+)\{`).FindSubmatch(caddy)
	if m == nil {
		t.Fatal("deploy/Caddyfile: no reverse_proxy line")
	}
	upstreams := strings.Fields(string(m[1]))
	if len(upstreams) < 2 {
		t.Errorf("deploy/Caddyfile: proxies to %v; want two APIs or more", upstreams)
	}
	for _, u := range upstreams {
		host, port, _ := strings.Cut(u, ":")
		svc, ok := main.Services[host]
		if !ok {
			t.Errorf("deploy/Caddyfile: upstream %s is no service of docker-compose.yml", u)
			continue
		}
		if len(svc.Command) == 0 || svc.Command[0] != "api" {
			t.Errorf("deploy/Caddyfile: upstream %s runs %v, not pregon api", u, svc.Command)
		}
		if !strings.HasSuffix(svc.Environment["PREGON_HTTP_ADDR"], ":"+port) {
			t.Errorf("deploy/Caddyfile: upstream %s, but the service listens on %q", u, svc.Environment["PREGON_HTTP_ADDR"])
		}
	}
	proxy, ok := main.Services["proxy"]
	if !ok || !slices.Contains(proxy.Profiles, "many") {
		t.Error(`docker-compose.yml: no proxy service in the "many" profile`)
	} else if !slices.ContainsFunc(proxy.Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/Caddyfile:") }) {
		t.Errorf("docker-compose.yml: the proxy does not mount deploy/Caddyfile (volumes %v)", proxy.Volumes)
	}
}
