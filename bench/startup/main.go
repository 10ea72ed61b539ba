// Command startup times whole processes side by side: each run executes
// every command once, in turn, so that a busy machine slows them alike.
//
//	go run ./bench/startup RUNS 'NAME=COMMAND ARGS' ...
//
// It prints the median, the 10th and the 90th percentile of each.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: startup RUNS 'NAME=COMMAND ARGS'...")
		os.Exit(2)
	}
	runs, err := strconv.Atoi(os.Args[1])
	if err != nil || runs < 10 {
		fmt.Fprintln(os.Stderr, "RUNS must be a number of at least 10")
		os.Exit(2)
	}
	type entry struct {
		name string
		argv []string
		ts   []time.Duration
	}
	var es []*entry
	for _, spec := range os.Args[2:] {
		name, cmdline, ok := strings.Cut(spec, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "%q: want NAME=COMMAND\n", spec)
			os.Exit(2)
		}
		es = append(es, &entry{name: name, argv: strings.Fields(cmdline)})
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	for range runs {
		for _, e := range es {
			c := exec.Command(e.argv[0], e.argv[1:]...)
			c.Stdout, c.Stderr = devnull, devnull
			t0 := time.Now()
			if err := c.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", e.name, err)
				os.Exit(1)
			}
			e.ts = append(e.ts, time.Since(t0))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("%d runs each, alternating\n", runs)
	for _, e := range es {
		slices.Sort(e.ts)
		fmt.Printf("  %-28s median %6.2f ms   p10 %6.2f   p90 %6.2f\n", e.name, ms(e.ts[runs/2]), ms(e.ts[runs/10]), ms(e.ts[runs*9/10]))
	}
}
