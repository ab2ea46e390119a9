# docs/api/filter.awk: doxygen's input filter for the public headers (docs/api/Doxyfile.in).
# It changes lines but never adds or removes one, so that doxygen's warnings name the
# header's own lines.
{ line[NR] = $0 }

END {
    # The file comment, `// asyncio/<name>.hpp: what it holds...` and the `//` lines after
    # it, becomes the file's documentation (\asyncio_file is `@file`): doxygen checks the
    # free functions, variables and macros of documented files only, so this is what makes
    # an undocumented `asyncio::` function fail the target.
    if (line[1] ~ /^\/\/ asyncio\/[^ ]*\.hpp: /) {
        sub(/^\/\/ asyncio\/[^ ]*\.hpp: /, "/// \\asyncio_file ", line[1])
        for (i = 2; i <= NR && line[i] ~ /^\/\/( |$)/; i++) line[i] = "/" line[i]
    }

    # The doc comments mark their parts with plain-text labels at the start of a `///` line
    # (docs/design/style.md): each becomes an alias that opens a titled paragraph, instead of
    # running on in the paragraph before it.
    for (i = 1; i <= NR; i++) {
        label(i, "Python:", "\\asyncio_python")
        label(i, "Throws:", "\\asyncio_throws")
        label(i, "Cancellation:", "\\asyncio_cancellation")
        label(i, "Differs from CPython:", "\\asyncio_differs")
        label(i, "Example:", "\\asyncio_example")
    }

    # Namespace `detail` is left out of the reference (EXCLUDE_SYMBOLS), but the members of
    # Queue, PriorityQueue and LifoQueue are those of their common base, detail::BasicQueue.
    # Doxygen is shown it in namespace asyncio: namespace detail is closed before its doc
    # comment, and not again after it (BasicQueue ends its detail block).
    for (i = 1; i <= NR; i++) {
        if (line[i] !~ /^class BasicQueue [{]/) continue
        k = i - 1                                           # its `template <...>` line
        while (k > 1 && line[k - 1] ~ /^\/\/\//) k--       # the top of its doc comment
        if (line[k - 1] == "") line[k - 1] = "}"; else line[k] = "}  " line[k]
        for (j = i + 1; j <= NR; j++)
            if (line[j] ~ /^}  \/\/ namespace detail$/) { line[j] = "//  namespace detail (closed above)"; break }
    }
    # In the queues' base clauses, the base is asyncio::BasicQueue and `detail::` goes from its
    # arguments too: a base named with "detail" in it would be excluded (EXCLUDE_SYMBOLS).
    for (i = 1; i <= NR; i++)
        if (line[i] ~ /detail::BasicQueue</ && line[i] !~ /^[ \t]*\/\//) gsub(/detail::/, "", line[i])

    for (i = 1; i <= NR; i++) print line[i]
}

# Turns `/// <text>rest` (indented or not) into `/// <alias>rest`.
function label(i, text, alias,    at) {
    at = index(line[i], "/// " text)
    if (at == 0 || substr(line[i], 1, at - 1) !~ /^[ \t]*$/) return
    line[i] = substr(line[i], 1, at - 1) "/// " alias substr(line[i], at + 4 + length(text))
}
