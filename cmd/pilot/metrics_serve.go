package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// metricsServer serves one node's Prometheus registry at
// http://<addr>/metrics for `pilot up --metrics` (docs/observability.md).
type metricsServer struct {
	reg  *prometheus.Registry
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when serve's goroutine ends; nil until serve
}

// checkMetricsAddr validates the --metrics value: host:port where host is
// an IP address or localhost. An empty host (":9090") would listen on
// every interface without saying so, and is refused: exposing metrics
// beyond this machine takes an explicit 0.0.0.0 or [::].
func checkMetricsAddr(cmd *cobra.Command, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError(cmd, "--metrics %q: want HOST:PORT, like 127.0.0.1:9464: %v", addr, err)
	}
	if port == "" {
		return usageError(cmd, "--metrics %q: no port; want HOST:PORT, like 127.0.0.1:9464 (port 0 picks a free one)", addr)
	}
	switch {
	case host == "":
		return usageError(cmd, "--metrics %q: no host; write 127.0.0.1%s for this machine only, or 0.0.0.0%s to expose metrics on every interface", addr, addr, addr)
	case host == "localhost":
	case net.ParseIP(host) == nil:
		return usageError(cmd, "--metrics %q: the host must be an IP address or localhost", addr)
	}
	return nil
}

// listenMetrics binds addr and builds the registry the node will fill,
// with Go runtime and process metrics added. Nothing is served until
// serve.
func listenMetrics(addr string) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeInvalidArgument, "pick another --metrics port (0 picks a free one)", "pilot up: metrics: %v", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return &metricsServer{
		reg: reg,
		ln:  ln,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
	}, nil
}

// Addr is the address the server listens on (the chosen port for port 0).
func (m *metricsServer) Addr() string { return m.ln.Addr().String() }

// serve starts answering scrapes in a goroutine; errs receives the
// error that stops it early, if any.
func (m *metricsServer) serve(errs func(error)) {
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs(err)
		}
	}()
}

// close stops the server (and its listener, served or not) and waits for
// it.
func (m *metricsServer) close() {
	if m.done == nil {
		_ = m.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		_ = m.srv.Close()
	}
	<-m.done
}
