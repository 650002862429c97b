package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"ecli/runner"
	"ecli/runner/metrics"
)

// metricsOptions are run's Prometheus flags.
type metricsOptions struct {
	addr      string
	maxSeries int
	quiet     bool
}

// ApplyFlags registers --metrics, --metrics-max-series and --quiet.
func (o *metricsOptions) ApplyFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "metrics", "", "serve Prometheus metrics at http://`[HOST]:PORT`/metrics (readiness at /readyz)")
	fs.IntVar(&o.maxSeries, "metrics-max-series", metrics.DefaultMaxSeries, "most label sets exported per map")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no events or map samples (diagnostics still go to stderr)")
}

// listen opens the metrics address, before anything is loaded, so that a bad address or a
// port in use is a usage error. It returns nil without --metrics.
func (o *metricsOptions) listen() (net.Listener, error) {
	if o.maxSeries <= 0 {
		return nil, usagef("--metrics-max-series %d: want a positive number", o.maxSeries)
	}
	if o.addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err // "bind: address already in use", not the op and address again
		}
		return nil, usagef("--metrics %s: %w", o.addr, err)
	}
	return ln, nil
}

// metricsServer serves an instance's metrics on a listener.
type metricsServer struct {
	srv   *http.Server
	ready atomic.Bool
}

// serveMetrics starts serving inst's metrics (plus the Go runtime's and the process's) on
// ln and returns the server and the observer to give Run.
func serveMetrics(ln net.Listener, inst *runner.Instance, o *metricsOptions, diag func(string)) (*metricsServer, runner.Observer, error) {
	c, err := metrics.New(inst, metrics.Options{MaxSeries: o.maxSeries, Warn: diag})
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &metricsServer{}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: diagLogger(diag)}))
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not attached yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	diag(fmt.Sprintf("serving metrics at http://%s/metrics", ln.Addr()))
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			diag(fmt.Sprintf("metrics server: %v", err))
		}
	}()
	return s, c, nil
}

// diagLogger adapts diag to promhttp's error log.
type diagLogger func(string)

func (d diagLogger) Println(v ...any) { d(fmt.Sprint(v...)) }
