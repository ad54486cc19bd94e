// Command clinic is a Virtuheal-style patient service that shows every
// error the apierrors library produces. Run it and try the README's curl
// walkthrough:
//
//	go run ./examples/clinic
//
// Flags:
//
//	-addr          listen address (default ":8080")
//	-rate          requests per second per client token; the burst is the same (default 20)
//	-timeout       request deadline (default 2s)
//	-problem-base  problem type URI base (default "/problems/")
//
// Tokens: "Authorization: Bearer staff-token" reads and writes,
// "Bearer viewer-token" only reads. It stops gracefully on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/virtuheal/apierrors/examples/clinic/api"
	"github.com/virtuheal/apierrors/examples/clinic/patient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "clinic:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. Logs go to
// logOut as JSON. When listening is not nil, it is told the address the
// server listens on.
func run(ctx context.Context, args []string, logOut io.Writer, listening func(addr string)) error {
	fs := flag.NewFlagSet("clinic", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "listen address")
	ratePerSecond := fs.Float64("rate", 20, "requests per second per client token; the burst is the same")
	timeout := fs.Duration("timeout", 2*time.Second, "request deadline")
	problemBase := fs.String("problem-base", "/problems/", "problem type URI base")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ratePerSecond < 1 || *timeout <= 0 {
		return errors.New("-rate must be at least 1 and -timeout positive")
	}

	logger := slog.New(slog.NewJSONHandler(logOut, nil))
	slog.SetDefault(logger)
	e := api.New(api.Options{
		Rate:        *ratePerSecond,
		Timeout:     *timeout,
		ProblemBase: *problemBase,
		Logger:      logger,
		Store:       patient.NewStore(),
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      *timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "rate", *ratePerSecond, "timeout", *timeout, "problem_base", *problemBase)
	if listening != nil {
		listening(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
