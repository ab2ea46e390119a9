// Tests for asyncio/exceptions.hpp: the hierarchy (CPython's exceptions.py), ExceptionGroup
// and except_star (CPython's test_exception_group.py and test_except_star.py).
#include <asyncio/exceptions.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// Python: CancelledError and KeyboardInterrupt are BaseException, not Exception.
TEST(Exceptions, HierarchyMatchesPython) {
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::CancelledError>);
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::KeyboardInterrupt>);
    static_assert(!std::is_base_of_v<std::exception, asyncio::CancelledError>);
    static_assert(!std::is_base_of_v<std::exception, asyncio::KeyboardInterrupt>);
    static_assert(std::is_base_of_v<std::exception, asyncio::TimeoutError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::InvalidStateError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::RuntimeError>);
    static_assert(std::is_base_of_v<std::invalid_argument, asyncio::ValueError>);
    bool by_std = false, by_base = false;
    try {
        try {
            throw asyncio::CancelledError("m");
        } catch (const std::exception&) {
            by_std = true;
        }
    } catch (const asyncio::BaseException& e) {
        by_base = true;
        EXPECT_STREQ(e.what(), "m");
        EXPECT_EQ(e.message(), "m");
    }
    EXPECT_FALSE(by_std);
    EXPECT_TRUE(by_base);
}

TEST(Exceptions, DescribeNamesTypeAndMessage) {
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(asyncio::ValueError("bad"))), "asyncio::ValueError: bad");
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(asyncio::CancelledError())), "asyncio::CancelledError");
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(42)), "unknown exception");
    EXPECT_EQ(asyncio::describe(nullptr), "no exception");
}

// ---------------------------------------------------------------------------------------
// ExceptionGroup and except_star, ported from CPython's Lib/test/test_exception_group.py
// and Lib/test/test_except_star.py (3.13). Each test names the CPython test it comes from.
//
// Skipped, because they cannot apply to C++: BaseExceptionGroup (there is none: one
// ExceptionGroup holds any exception), bad constructor arguments other than an empty list
// (the types make them impossible), reprs, tracebacks, notes, __cause__/__context__, derive()
// overrides, exception types given as tuples (chain handle<>() clauses instead), and the
// re-raise tests of test_except_star.py (a C++ handler that throws ends the chain, as the
// header documents: ExceptStarHandlerThatThrowsEndsTheChain pins that).

namespace {

struct TypeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct OSError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct BlockingIOError : OSError {
    using OSError::OSError;
};
struct SyntaxError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct MyExceptionGroup : asyncio::ExceptionGroup {
    using asyncio::ExceptionGroup::ExceptionGroup;
};

template <class E>
std::exception_ptr ep(const char* what) {
    return std::make_exception_ptr(E(what));
}
std::exception_ptr eg(const std::string& message, std::vector<std::exception_ptr> excs) {
    return std::make_exception_ptr(asyncio::ExceptionGroup(message, std::move(excs)));
}
asyncio::ExceptionGroup group(const std::string& message, std::vector<std::exception_ptr> excs) {
    return asyncio::ExceptionGroup(message, std::move(excs));
}

std::string leaf(const char* type, const char* what) { return std::string(type) + "('" + what + "')"; }

// Python's repr of an exception (group): ExceptionGroup('m', [ValueError('V'), ...]).
std::string shape(const std::exception_ptr& e) {
    auto of_group = [](const char* type, const asyncio::ExceptionGroup& g) {
        std::string s = std::string(type) + "('" + g.message() + "', [";
        for (std::size_t i = 0; i < g.exceptions().size(); ++i) s += (i ? ", " : "") + shape(g.exceptions()[i]);
        return s + "])";
    };
    if (!e) return "None";
    try {
        std::rethrow_exception(e);
    } catch (const MyExceptionGroup& g) {
        return of_group("MyExceptionGroup", g);
    } catch (const asyncio::ExceptionGroup& g) {
        return of_group("ExceptionGroup", g);
    } catch (const BlockingIOError& x) {
        return leaf("BlockingIOError", x.what());
    } catch (const OSError& x) {
        return leaf("OSError", x.what());
    } catch (const asyncio::ValueError& x) {
        return leaf("ValueError", x.what());
    } catch (const TypeError& x) {
        return leaf("TypeError", x.what());
    } catch (const asyncio::CancelledError& x) {
        return leaf("CancelledError", x.what());
    } catch (...) {
        return "?";
    }
}
std::string shape(const std::optional<asyncio::ExceptionGroup>& g) { return g ? shape(std::make_exception_ptr(*g)) : "None"; }

// Raises `exc`, runs except_star on it with `clauses`, and returns what escaped ("None" if
// nothing did), as test_except_star.py's doSplitTest does.
template <class F>
std::string escaped(const std::exception_ptr& exc, F&& clauses) {
    try {
        try {
            std::rethrow_exception(exc);
        } catch (...) {
            auto chain = asyncio::except_star(std::current_exception());
            clauses(chain);
            chain.rethrow_unhandled();
        }
    } catch (...) {
        return shape(std::current_exception());
    }
    return "None";
}

// The group of create_simple_eg(): [ValueError(1), TypeError(int), ValueError(2)].
asyncio::ExceptionGroup simple_eg() {
    return group("simple eg", {ep<asyncio::ValueError>("1"), ep<TypeError>("int"), ep<asyncio::ValueError>("2")});
}

}  // namespace

// StrAndReprTests.test_ExceptionGroup
TEST(ExceptionGroup, StrIsTheMessageAndTheCount) {
    auto flat = group("flat", {ep<asyncio::ValueError>("1"), ep<TypeError>("2")});
    EXPECT_STREQ(flat.what(), "flat (2 sub-exceptions)");
    auto nested = group("nested", {std::make_exception_ptr(flat), ep<asyncio::ValueError>("1"), std::make_exception_ptr(flat), ep<TypeError>("2")});
    EXPECT_STREQ(nested.what(), "nested (4 sub-exceptions)");
    EXPECT_STREQ(group("one", {ep<TypeError>("x")}).what(), "one (1 sub-exception)");
    static_assert(std::is_base_of_v<std::exception, asyncio::ExceptionGroup>);
}

// ExceptionGroupFields.test_basics_ExceptionGroup_fields
TEST(ExceptionGroup, FieldsAreTheMessageAndTheExceptions) {
    auto e1 = ep<asyncio::ValueError>("1");
    auto e2 = ep<TypeError>("2");
    auto g = group("my msg", {e1, e2});
    EXPECT_EQ(g.message(), "my msg");
    EXPECT_EQ(g.exceptions().size(), 2u);
    EXPECT_EQ(g.exceptions()[0], e1);  // the very same exception objects
    EXPECT_EQ(g.exceptions()[1], e2);
    auto copy = g;  // the exceptions are shared, not copied
    EXPECT_EQ(copy.exceptions()[0], e1);
}

// BadConstructorArgs.test_bad_EG_construction__bad_excs_sequence
TEST(ExceptionGroup, EmptyListRaisesValueError) {
    std::string what;
    try {
        asyncio::ExceptionGroup g("errors not sequence", {});
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::ValueError& e) {
        what = e.what();
    }
    EXPECT_EQ(what, "second argument (exceptions) must be a non-empty sequence");
}

// ExceptionGroupSubgroupTests.test_basics_subgroup_by_type__no_match / __match
TEST(ExceptionGroup, SubgroupByType) {
    auto g = simple_eg();
    EXPECT_EQ(shape(g.subgroup<OSError>()), "None");
    EXPECT_EQ(shape(g.subgroup<asyncio::ValueError>()), "ExceptionGroup('simple eg', [ValueError('1'), ValueError('2')])");
    EXPECT_EQ(shape(g.subgroup<TypeError>()), "ExceptionGroup('simple eg', [TypeError('int')])");
    EXPECT_EQ(shape(g.subgroup<std::exception>()), shape(std::make_exception_ptr(g)));
}

// ExceptionGroupSplitTests.test_basics_split_by_type__no_match / __match
TEST(ExceptionGroup, SplitByType) {
    auto g = simple_eg();
    auto [m0, r0] = g.split<OSError>();
    EXPECT_EQ(shape(m0), "None");
    EXPECT_EQ(shape(r0), "ExceptionGroup('simple eg', [ValueError('1'), TypeError('int'), ValueError('2')])");
    auto [m1, r1] = g.split<asyncio::ValueError>();
    EXPECT_EQ(shape(m1), "ExceptionGroup('simple eg', [ValueError('1'), ValueError('2')])");
    EXPECT_EQ(shape(r1), "ExceptionGroup('simple eg', [TypeError('int')])");
    auto [m2, r2] = g.split<TypeError>();
    EXPECT_EQ(shape(m2), "ExceptionGroup('simple eg', [TypeError('int')])");
    EXPECT_EQ(shape(r2), "ExceptionGroup('simple eg', [ValueError('1'), ValueError('2')])");
    // The leaves are the very same exception objects.
    EXPECT_EQ(m1->exceptions()[0], g.exceptions()[0]);
    EXPECT_EQ(r1->exceptions()[0], g.exceptions()[1]);
}

// ExceptionGroupSplitTests.test_basics_split_by_type__passthrough (Exception, BaseException)
TEST(ExceptionGroup, SplitByABaseOfEveryLeafMatchesAll) {
    auto g = simple_eg();
    auto [m, r] = g.split<std::exception>();
    EXPECT_EQ(shape(m), "ExceptionGroup('simple eg', [ValueError('1'), TypeError('int'), ValueError('2')])");
    EXPECT_EQ(shape(r), "None");
}

// ExceptionGroupSplitTests.test_basics_split_by_type__passthrough (ExceptionGroup),
// ExceptionGroupSubgroupTests.test_basics_subgroup_by_type__passthrough, and
// NestedExceptionGroupSplitTest.test_split_by_type's "Match ExceptionGroup": a condition
// that matches the group itself returns the whole group (CPython checks the group before
// its leaves).
TEST(ExceptionGroup, SplitByExceptionGroupMatchesTheGroupItself) {
    auto g = simple_eg();
    auto [m, r] = g.split<asyncio::ExceptionGroup>();
    EXPECT_EQ(shape(m), "ExceptionGroup('simple eg', [ValueError('1'), TypeError('int'), ValueError('2')])");
    EXPECT_EQ(shape(r), "None");
    EXPECT_EQ(shape(g.subgroup<asyncio::ExceptionGroup>()), shape(std::make_exception_ptr(g)));
    auto nested = group("outer", {ep<asyncio::ValueError>("7"), eg("inner", {ep<TypeError>("t")})});
    auto [nm, nr] = nested.split<asyncio::ExceptionGroup>();
    EXPECT_EQ(shape(nm), "ExceptionGroup('outer', [ValueError('7'), ExceptionGroup('inner', [TypeError('t')])])");
    EXPECT_EQ(shape(nr), "None");
}

// ExceptionGroupSplitTests.test_basics_split_by_predicate__passthrough / __no_match /
// __match
TEST(ExceptionGroup, SplitByPredicate) {
    auto g = simple_eg();
    auto [all, none] = g.split_if([](const std::exception_ptr&) { return true; });
    EXPECT_EQ(shape(all), shape(std::make_exception_ptr(g)));
    EXPECT_EQ(shape(none), "None");
    auto [none2, all2] = g.split_if([](const std::exception_ptr&) { return false; });
    EXPECT_EQ(shape(none2), "None");
    EXPECT_EQ(shape(all2), shape(std::make_exception_ptr(g)));
    auto [m, r] = g.split_if([](const std::exception_ptr& e) { return asyncio::ExceptionGroup::is_a<TypeError>(e); });
    EXPECT_EQ(shape(m), "ExceptionGroup('simple eg', [TypeError('int')])");
    EXPECT_EQ(shape(r), "ExceptionGroup('simple eg', [ValueError('1'), ValueError('2')])");
}

// NestedExceptionGroupSplitTest.test_split_by_type (its "Match ExceptionGroup" part is in
// SplitByExceptionGroupMatchesTheGroupItself)
TEST(ExceptionGroup, NestedSplitByTypeKeepsTheShape) {
    auto level1 = [](int i) {
        return eg("msg1", {ep<asyncio::ValueError>(std::to_string(i).c_str()), ep<TypeError>("int"), ep<asyncio::ValueError>(std::to_string(i + 1).c_str())});
    };
    auto level2 = [&](int i) {
        return std::make_exception_ptr(MyExceptionGroup("msg2", {level1(i), level1(i + 1), ep<asyncio::ValueError>(std::to_string(i + 2).c_str())}));
    };
    auto g = group("msg3", {level2(6), ep<asyncio::ValueError>("7")});
    const std::string eg_template =
        "ExceptionGroup('msg3', [MyExceptionGroup('msg2', ["
        "ExceptionGroup('msg1', [ValueError('6'), TypeError('int'), ValueError('7')]), "
        "ExceptionGroup('msg1', [ValueError('7'), TypeError('int'), ValueError('8')]), ValueError('8')]), ValueError('7')])";
    const std::string value_errors =
        "ExceptionGroup('msg3', [ExceptionGroup('msg2', ["
        "ExceptionGroup('msg1', [ValueError('6'), ValueError('7')]), "
        "ExceptionGroup('msg1', [ValueError('7'), ValueError('8')]), ValueError('8')]), ValueError('7')])";
    const std::string type_errors =
        "ExceptionGroup('msg3', [ExceptionGroup('msg2', ["
        "ExceptionGroup('msg1', [TypeError('int')]), ExceptionGroup('msg1', [TypeError('int')])])])";
    EXPECT_EQ(shape(std::make_exception_ptr(g)), eg_template);

    // Match Nothing: the rest has the same shape, its nested groups rebuilt as plain
    // ExceptionGroups (CPython's derive() does the same for a subclass that does not
    // override it).
    auto [m0, r0] = g.split<SyntaxError>();
    EXPECT_EQ(shape(m0), "None");
    std::string rebuilt = eg_template;
    rebuilt.replace(rebuilt.find("MyExceptionGroup"), 16, "ExceptionGroup");
    EXPECT_EQ(shape(r0), rebuilt);

    auto [m1, r1] = g.split<std::exception>();  // Match Everything
    EXPECT_EQ(shape(m1), eg_template);
    EXPECT_EQ(shape(r1), "None");

    auto [m2, r2] = g.split<asyncio::ValueError>();  // Match ValueErrors
    EXPECT_EQ(shape(m2), value_errors);
    EXPECT_EQ(shape(r2), type_errors);
    EXPECT_EQ(shape(g.subgroup<asyncio::ValueError>()), value_errors);

    auto [m3, r3] = g.split<TypeError>();  // Match TypeErrors
    EXPECT_EQ(shape(m3), type_errors);
    EXPECT_EQ(shape(r3), value_errors);

    auto [m4, r4] = g.split<MyExceptionGroup>();  // Match MyExceptionGroup (a nested group whole)
    EXPECT_EQ(shape(m4),
              "ExceptionGroup('msg3', [MyExceptionGroup('msg2', ["
              "ExceptionGroup('msg1', [ValueError('6'), TypeError('int'), ValueError('7')]), "
              "ExceptionGroup('msg1', [ValueError('7'), TypeError('int'), ValueError('8')]), ValueError('8')])])");
    EXPECT_EQ(shape(r4), "ExceptionGroup('msg3', [ValueError('7')])");
}

// test_except_star.py TestExceptStarSplitSemantics

// test_no_match_single_type
TEST(ExceptStar, NoMatchRethrowsTheGroupUnchanged) {
    auto exc = eg("test1", {ep<asyncio::ValueError>("V"), ep<TypeError>("T")});
    bool handled = false;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<SyntaxError>([&](const auto&) { handled = true; }); }),
              "ExceptionGroup('test1', [ValueError('V'), TypeError('T')])");
    EXPECT_FALSE(handled);
}

// test_match_single_type
TEST(ExceptStar, FullMatchHandlesEverything) {
    auto exc = eg("test2", {ep<asyncio::ValueError>("V1"), ep<asyncio::ValueError>("V2")});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<asyncio::ValueError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }), "None");
    EXPECT_EQ(match, "ExceptionGroup('test2', [ValueError('V1'), ValueError('V2')])");
}

// test_match_single_type_partial_match
TEST(ExceptStar, PartialMatchRethrowsTheRest) {
    auto exc = eg("test3", {ep<asyncio::ValueError>("V1"), ep<OSError>("OS"), ep<asyncio::ValueError>("V2")});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<asyncio::ValueError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }),
              "ExceptionGroup('test3', [OSError('OS')])");
    EXPECT_EQ(match, "ExceptionGroup('test3', [ValueError('V1'), ValueError('V2')])");
}

// test_match_single_type_nested
TEST(ExceptStar, NestedMatchKeepsTheShapeOnBothSides) {
    auto exc = eg("g1", {ep<asyncio::ValueError>("V1"), ep<OSError>("OS1"), eg("g2", {ep<OSError>("OS2"), ep<asyncio::ValueError>("V2"), ep<TypeError>("T")})});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<asyncio::ValueError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }),
              "ExceptionGroup('g1', [OSError('OS1'), ExceptionGroup('g2', [OSError('OS2'), TypeError('T')])])");
    EXPECT_EQ(match, "ExceptionGroup('g1', [ValueError('V1'), ExceptionGroup('g2', [ValueError('V2')])])");
}

// test_empty_groups_removed
TEST(ExceptStar, EmptyNestedGroupsAreRemoved) {
    auto exc = eg("eg", {eg("i1", {ep<asyncio::ValueError>("V1")}), eg("i2", {ep<asyncio::ValueError>("V2"), ep<TypeError>("T1")}), eg("i3", {ep<TypeError>("T2")})});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<TypeError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }),
              "ExceptionGroup('eg', [ExceptionGroup('i1', [ValueError('V1')]), ExceptionGroup('i2', [ValueError('V2')])])");
    EXPECT_EQ(match, "ExceptionGroup('eg', [ExceptionGroup('i2', [TypeError('T1')]), ExceptionGroup('i3', [TypeError('T2')])])");
}

// test_singleton_groups_are_kept
TEST(ExceptStar, SingletonNestedGroupsAreKept) {
    auto exc = eg("j1", {eg("j2", {eg("j3", {ep<asyncio::ValueError>("V1")}), eg("j4", {ep<TypeError>("T")})})});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<TypeError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }),
              "ExceptionGroup('j1', [ExceptionGroup('j2', [ExceptionGroup('j3', [ValueError('V1')])])])");
    EXPECT_EQ(match, "ExceptionGroup('j1', [ExceptionGroup('j2', [ExceptionGroup('j4', [TypeError('T')])])])");
}

// test_naked_exception_matched_wrapped1 / test_naked_exception_matched_wrapped2
TEST(ExceptStar, PlainExceptionMatchedIsWrappedInAGroup) {
    std::string match;
    EXPECT_EQ(escaped(ep<asyncio::ValueError>("V"), [&](asyncio::ExceptStar& c) { c.handle<asyncio::ValueError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }), "None");
    EXPECT_EQ(match, "ExceptionGroup('', [ValueError('V')])");
    match.clear();
    EXPECT_EQ(escaped(ep<asyncio::ValueError>("V"), [&](asyncio::ExceptStar& c) { c.handle<std::exception>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }), "None");
    EXPECT_EQ(match, "ExceptionGroup('', [ValueError('V')])");
}

// test_exception_group_except_star_Exception_not_wrapped
TEST(ExceptStar, GroupIsNotWrappedAgain) {
    std::string match;
    EXPECT_EQ(escaped(eg("eg", {ep<asyncio::ValueError>("V")}), [&](asyncio::ExceptStar& c) { c.handle<std::exception>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }), "None");
    EXPECT_EQ(match, "ExceptionGroup('eg', [ValueError('V')])");
}

// test_plain_exception_not_matched: the plain exception escapes as it is, not in a group.
TEST(ExceptStar, PlainExceptionNotMatchedEscapesAsItIs) {
    auto exc = ep<asyncio::ValueError>("V");
    bool handled = false;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<TypeError>([&](const auto&) { handled = true; }); }), "ValueError('V')");
    EXPECT_FALSE(handled);
    // The very same object, and a cancellation stays a cancellation.
    bool rethrown = false;
    try {
        asyncio::except_star(exc).handle<TypeError>([](const auto&) {}).rethrow_unhandled();
    } catch (...) {
        rethrown = true;
        EXPECT_EQ(std::current_exception(), exc);
    }
    EXPECT_TRUE(rethrown);
    EXPECT_EQ(escaped(std::make_exception_ptr(asyncio::CancelledError("c")), [](asyncio::ExceptStar& c) { c.handle<std::exception>([](const auto&) {}); }),
              "CancelledError('c')");
}

// test_match__supertype
TEST(ExceptStar, MatchesBySupertype) {
    auto exc = eg("st", {ep<BlockingIOError>("io"), ep<TypeError>("T")});
    std::string match;
    EXPECT_EQ(escaped(exc, [&](asyncio::ExceptStar& c) { c.handle<OSError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }); }),
              "ExceptionGroup('st', [TypeError('T')])");
    EXPECT_EQ(match, "ExceptionGroup('st', [BlockingIOError('io')])");
}

// test_multiple_matches_named: each clause gets its own part, once
TEST(ExceptStar, EachClauseGetsItsPart) {
    auto exc = eg("mmn", {ep<OSError>("os"), ep<BlockingIOError>("io")});
    std::vector<std::string> calls;
    EXPECT_EQ(escaped(exc,
                      [&](asyncio::ExceptStar& c) {
                          c.handle<BlockingIOError>([&](const asyncio::ExceptionGroup& m) { calls.push_back(shape(m)); })
                              .handle<OSError>([&](const asyncio::ExceptionGroup& m) { calls.push_back(shape(m)); });
                      }),
              "None");
    EXPECT_EQ(calls, (std::vector<std::string>{"ExceptionGroup('mmn', [BlockingIOError('io')])", "ExceptionGroup('mmn', [OSError('os')])"}));
}

// test_first_match_wins_named
TEST(ExceptStar, FirstMatchingClauseWins) {
    auto exc = eg("fst", {ep<BlockingIOError>("io")});
    std::string match;
    bool second = false;
    EXPECT_EQ(escaped(exc,
                      [&](asyncio::ExceptStar& c) {
                          c.handle<OSError>([&](const asyncio::ExceptionGroup& m) { match = shape(m); }).handle<BlockingIOError>([&](const auto&) { second = true; });
                      }),
              "None");
    EXPECT_EQ(match, "ExceptionGroup('fst', [BlockingIOError('io')])");
    EXPECT_FALSE(second);
}

// C++: the documented deviation: a handler that throws ends the chain at once (Python
// would raise a group of the raised exception and the unhandled rest).
TEST(ExceptStar, HandlerThatThrowsEndsTheChain) {
    auto exc = eg("eg", {ep<TypeError>("1"), ep<asyncio::ValueError>("2"), ep<OSError>("3")});
    bool second = false;
    EXPECT_EQ(escaped(exc,
                      [&](asyncio::ExceptStar& c) {
                          c.handle<TypeError>([](const asyncio::ExceptionGroup&) { throw asyncio::ValueError("from handler"); })
                              .handle<asyncio::ValueError>([&](const auto&) { second = true; });
                      }),
              "ValueError('from handler')");
    EXPECT_FALSE(second);
}
