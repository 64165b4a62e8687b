// Command promptgrid evaluates and benchmarks prompts against Runware's text
// inference API: it runs a YAML suite over a grid of settings, journals every
// sample, and reports pass rates, latency, thinking tokens and cost.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(mainRun())
}

func mainRun() int {
	// The first SIGINT/SIGTERM cancels ctx (stop scheduling, finish in-flight
	// work, write the report); a second one exits at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\npromptgrid: stopping: waiting for requests in flight (press Ctrl-C again to exit now)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "promptgrid: exiting now")
		os.Exit(exitInterrupted)
	}()

	s := systemStreams()
	root := newRootCmd(s)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(s.Err, "promptgrid:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(s.Err, "promptgrid:", err)
	return exitInput
}
