// W8 spawn (docs/design/benchmarks-method.md), Go: N runs of /bin/true with os/exec, C at a time (C goroutines,
// each running one child after another), every exit code checked.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n, c := int64(1000), 16
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	if len(os.Args) > 2 {
		c, _ = strconv.Atoi(os.Args[2])
	}
	start := time.Now()
	var next, ok int64
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= n {
				if exec.Command("/bin/true").Run() == nil {
					atomic.AddInt64(&ok, 1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := float64(time.Since(start).Nanoseconds())
	if ok != n {
		fmt.Fprintf(os.Stderr, "w8 go: %d of %d exited 0\n", ok, n)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w8_spawn runtime=go n=%d ns_per_op=%.2f\n", n, elapsed/float64(n))
}
