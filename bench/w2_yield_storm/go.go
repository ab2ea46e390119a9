// W2 yield storm (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: T goroutines each yield the processor
// (runtime.Gosched) Y times; a WaitGroup waits for all.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	nTasks, yields := int64(1_000), int64(1_000)
	if len(os.Args) > 1 {
		nTasks, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	if len(os.Args) > 2 {
		yields, _ = strconv.ParseInt(os.Args[2], 10, 64)
	}
	start := time.Now()

	counts := make([]int64, nTasks) // one counter per goroutine: no data race, whatever GOMAXPROCS
	var wg sync.WaitGroup
	wg.Add(int(nTasks))
	for t := int64(0); t < nTasks; t++ {
		go func(c *int64) {
			defer wg.Done()
			for i := int64(0); i < yields; i++ {
				runtime.Gosched()
				*c++
			}
		}(&counts[t])
	}
	wg.Wait()

	elapsed := time.Since(start)
	var count int64
	for _, c := range counts {
		count += c
	}
	total := nTasks * yields
	if count != total {
		fmt.Fprintf(os.Stderr, "w2 go: %d yields, expected %d\n", count, total)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w2_yield_storm runtime=go n=%d ns_per_op=%.2f\n", total, float64(elapsed.Nanoseconds())/float64(total))
}
