// W4 sleepers (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: N goroutines each time.Sleep(1 s) once;
// spawn all, then a WaitGroup waits for all. The figure is wall time minus 1 s.
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
	start := time.Now()

	var woken atomic.Int64
	var wg sync.WaitGroup
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() {
			defer wg.Done()
			time.Sleep(time.Second)
			woken.Add(1)
		}()
	}
	wg.Wait()

	overhead := time.Since(start) - time.Second
	if woken.Load() != n {
		fmt.Fprintf(os.Stderr, "w4 go: %d woke, expected %d\n", woken.Load(), n)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w4_sleepers runtime=go n=%d ns_per_op=%.2f overhead_ms=%.3f\n",
		n, float64(overhead.Nanoseconds())/float64(n), float64(overhead.Nanoseconds())/1e6)
}
