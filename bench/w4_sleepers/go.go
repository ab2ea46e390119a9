// W4 sleepers (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: N goroutines each time.Sleep(1 s) once;
// spawn all, then a WaitGroup waits for all. The figure is wall time minus 1 s. With a second argument J > 0, W4j:
// each sleep lengthened by 0 to J-1 µs from the shared generator (bench/w4_sleepers/asyncio.cpp), the figure the wall
// time minus the longest sleep.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := int64(1_000_000)
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	j := int64(0)
	if len(os.Args) > 2 {
		j, _ = strconv.ParseInt(os.Args[2], 10, 64)
	}
	start := time.Now()

	var woken atomic.Int64
	var wg sync.WaitGroup
	wg.Add(int(n))
	lcg := uint32(12345) // the shared generator: a 32-bit LCG, bits 8-31 modulo j
	longest := time.Duration(0)
	for i := int64(0); i < n; i++ {
		delay := time.Second
		if j > 0 {
			lcg = lcg*1664525 + 1013904223
			delay += time.Duration(int64(lcg>>8)%j) * time.Microsecond
		}
		if delay > longest {
			longest = delay
		}
		go func() {
			defer wg.Done()
			time.Sleep(delay)
			woken.Add(1)
		}()
	}
	wg.Wait()

	overhead := time.Since(start) - longest
	if woken.Load() != n {
		fmt.Fprintf(os.Stderr, "w4 go: %d woke, expected %d\n", woken.Load(), n)
		os.Exit(1)
	}
	workload := "w4_sleepers"
	if j > 0 {
		workload = "w4j_jitter"
	}
	fmt.Printf("RESULT workload=%s runtime=go n=%d ns_per_op=%.2f overhead_ms=%.3f\n",
		workload, n, float64(overhead.Nanoseconds())/float64(n), float64(overhead.Nanoseconds())/1e6)
}
