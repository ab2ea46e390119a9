// W6 offload (docs/design/benchmarks-method.md), Go: N round trips, one after another, each a goroutine that runs
// a trivial function and sends its result back on a channel (Go's counterpart of a call on another thread).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func f(v int64) int64 { return v + 1 }

func main() {
	n := int64(100000)
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	start := time.Now()
	var sum int64
	for i := int64(0); i < n; i++ {
		ch := make(chan int64, 1)
		go func(v int64) { ch <- f(v) }(i)
		sum += <-ch
	}
	elapsed := float64(time.Since(start).Nanoseconds())
	if sum != n*(n+1)/2 {
		fmt.Fprintf(os.Stderr, "w6 go: sum %d\n", sum)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w6_offload runtime=go n=%d ns_per_op=%.2f\n", n, elapsed/float64(n))
}
