/*
 * test_manifest.c -- YAML and JSON manifests to cJSON: scalar resolution,
 * documents, Lists, anchors and their limits, and error positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static cJSON *
yaml(const char *text)
{
    ctl_manifest_error err;
    cJSON *docs = ctl_manifest_parse_yaml(text, strlen(text), &err);

    if (docs == NULL)
        fail_msg("unexpected error %lu:%lu %s", err.line, err.column,
                 err.problem);
    return docs;
}

/* The first document of a one-document stream. */
static const cJSON *
doc0(const cJSON *docs)
{
    assert_int_equal(cJSON_GetArraySize(docs), 1);
    return cJSON_GetArrayItem(docs, 0);
}

static void
expect_error(const char *text, unsigned long line, unsigned long column,
             const char *problem_part)
{
    ctl_manifest_error err;
    cJSON *docs = ctl_manifest_parse_yaml(text, strlen(text), &err);

    assert_null(docs);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    if (strstr(err.problem, problem_part) == NULL)
        fail_msg("problem \"%s\" lacks \"%s\"", err.problem, problem_part);
}

static void
want_number(const cJSON *obj, const char *key, double v)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsNumber(item))
        fail_msg("%s is not a number", key);
    assert_true(item->valuedouble == v);
}

static void
want_string(const cJSON *obj, const char *key, const char *v)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsString(item))
        fail_msg("%s is not a string", key);
    assert_string_equal(item->valuestring, v);
}

static void
test_plain_scalars_follow_the_core_schema(void **state)
{
    cJSON *docs = yaml("n1: ~\nn2: null\nn3: Null\nn4: NULL\nn5:\n"
                       "b1: true\nb2: True\nb3: TRUE\nb4: false\nb5: FALSE\n"
                       "i1: 42\ni2: -7\ni3: +12\ni4: 0x1F\ni5: 0o17\ni6: 0777\n"
                       "f1: 1.5\nf2: .5\nf3: -1.5e3\nf4: 2E2\nf5: 1.\n"
                       "s1: yes\ns2: on\ns3: 1_000\ns4: 0x\ns5: .inf\n"
                       "s6: .nan\ns7: hello world\ns8: 1.2.3\ns9: nulls\n");
    const cJSON *d = doc0(docs);

    (void)state;
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n1")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n2")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n3")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n4")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n5")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "b1")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "b2")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "b3")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(d, "b4")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(d, "b5")));
    want_number(d, "i1", 42);
    want_number(d, "i2", -7);
    want_number(d, "i3", 12);
    want_number(d, "i4", 31);
    want_number(d, "i5", 15);
    want_number(d, "i6", 777);
    want_number(d, "f1", 1.5);
    want_number(d, "f2", 0.5);
    want_number(d, "f3", -1500);
    want_number(d, "f4", 200);
    want_number(d, "f5", 1);
    /* YAML 1.1 words are strings in 1.2; JSON cannot hold inf or NaN. */
    want_string(d, "s1", "yes");
    want_string(d, "s2", "on");
    want_string(d, "s3", "1_000");
    want_string(d, "s4", "0x");
    want_string(d, "s5", ".inf");
    want_string(d, "s6", ".nan");
    want_string(d, "s7", "hello world");
    want_string(d, "s8", "1.2.3");
    want_string(d, "s9", "nulls");
    cJSON_Delete(docs);
}

static void
test_quoted_and_block_scalars_are_strings(void **state)
{
    cJSON *docs = yaml("a: \"123\"\nb: 'true'\nc: \"\"\nd: |\n  line1\n  line2\n"
                       "e: >\n  folded\n  text\nf: !!str 80\ng: !!int \"12\"\n"
                       "h: ! 42\n");
    const cJSON *d = doc0(docs);

    (void)state;
    want_string(d, "a", "123");
    want_string(d, "b", "true");
    want_string(d, "c", "");
    want_string(d, "d", "line1\nline2\n");
    want_string(d, "e", "folded text\n");
    want_string(d, "f", "80");
    want_number(d, "g", 12);
    want_string(d, "h", "42");
    cJSON_Delete(docs);
}

static void
test_keys_are_text_whatever_they_resolve_to(void **state)
{
    cJSON *docs = yaml("80: http\ntrue: yes\n~: nothing\n");
    const cJSON *d = doc0(docs);

    (void)state;
    want_string(d, "80", "http");
    want_string(d, "true", "yes");
    want_string(d, "~", "nothing");
    cJSON_Delete(docs);
}

static void
test_documents_keep_their_indexes(void **state)
{
    cJSON *docs = yaml("---\na: 1\n---\n---\n# just a comment\n---\nb: 2\n");

    (void)state;
    assert_int_equal(cJSON_GetArraySize(docs), 4);
    want_number(cJSON_GetArrayItem(docs, 0), "a", 1);
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(docs, 1)));
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(docs, 2)));
    want_number(cJSON_GetArrayItem(docs, 3), "b", 2);
    cJSON_Delete(docs);

    docs = yaml("# nothing at all\n");
    assert_int_equal(cJSON_GetArraySize(docs), 0);
    cJSON_Delete(docs);
}

typedef struct {
    char seen[16][64];
    int  n;
} visits;

static int
record_object(const cJSON *obj, unsigned doc, unsigned item, void *data)
{
    visits *v = data;
    const cJSON *name = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"),
                                            "name");

    snprintf(v->seen[v->n++], sizeof(v->seen[0]), "%u.%u:%s", doc, item,
             cJSON_IsString(name) ? name->valuestring
             : cJSON_IsObject(obj) ? "?"
                                   : "not-an-object");
    return 0;
}

static void
test_lists_stand_for_their_items(void **state)
{
    cJSON *docs = yaml("kind: Service\nmetadata: {name: a}\n"
                       "---\n"
                       "---\n"
                       "apiVersion: v1\nkind: List\nitems:\n"
                       "- {kind: Service, metadata: {name: b}}\n"
                       "- {kind: Service, metadata: {name: c}}\n"
                       "---\n"
                       "kind: ServiceList\nitems: [{metadata: {name: d}}, 7]\n"
                       "---\n"
                       "kind: List\nitems: []\n"
                       "---\n"
                       "just text\n");
    visits v;

    (void)state;
    memset(&v, 0, sizeof(v));
    assert_int_equal(ctl_manifest_for_each_object(docs, record_object, &v), 0);
    assert_int_equal(v.n, 6);
    assert_string_equal(v.seen[0], "1.0:a");
    assert_string_equal(v.seen[1], "3.1:b");
    assert_string_equal(v.seen[2], "3.2:c");
    assert_string_equal(v.seen[3], "4.1:d");
    assert_string_equal(v.seen[4], "4.2:not-an-object");
    assert_string_equal(v.seen[5], "6.0:not-an-object");
    cJSON_Delete(docs);
}

static int
stop_at_second(const cJSON *obj, unsigned doc, unsigned item, void *data)
{
    int *calls = data;

    (void)obj;
    (void)doc;
    (void)item;
    return ++*calls == 2 ? 7 : 0;
}

static void
test_for_each_stops_on_request(void **state)
{
    cJSON *docs = yaml("a: 1\n---\nb: 2\n---\nc: 3\n");
    int calls = 0;

    (void)state;
    assert_int_equal(ctl_manifest_for_each_object(docs, stop_at_second, &calls), 7);
    assert_int_equal(calls, 2);
    cJSON_Delete(docs);
}

static void
test_anchors_aliases_and_merges(void **state)
{
    cJSON *docs = yaml("base: &b {x: 1, y: [1, 2]}\n"
                       "copy: *b\n"
                       "merged:\n  <<: *b\n  x: 9\n  z: 3\n"
                       "multi:\n  <<: [{p: 1}, {p: 2, q: 2}]\n"
                       "inline:\n  <<: {m: 1}\n"
                       "name: &n web\n"
                       "again: *n\n"
                       "&k key: v\n"
                       "other:\n  *k : w\n");
    const cJSON *d = doc0(docs);
    const cJSON *merged = cJSON_GetObjectItem(d, "merged");

    (void)state;
    assert_true(cJSON_Compare(cJSON_GetObjectItem(d, "base"),
                              cJSON_GetObjectItem(d, "copy"), 1));
    /* Keys of the mapping itself win over merged ones. */
    want_number(merged, "x", 9);
    want_number(merged, "z", 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(merged, "y")), 2);
    assert_null(cJSON_GetObjectItem(merged, "<<"));
    /* In a sequence of merges, the earlier mapping wins. */
    want_number(cJSON_GetObjectItem(d, "multi"), "p", 1);
    want_number(cJSON_GetObjectItem(d, "multi"), "q", 2);
    want_number(cJSON_GetObjectItem(d, "inline"), "m", 1);
    want_string(d, "again", "web");
    want_string(cJSON_GetObjectItem(d, "other"), "key", "w");
    cJSON_Delete(docs);

    /* An aliased key that repeats a key is a duplicate like any other. */
    expect_error("&k key: v\n*k : w\n", 1, 1, "duplicate key \"key\"");
}

static void
test_anchors_do_not_cross_documents(void **state)
{
    (void)state;
    expect_error("a: &x 1\n---\nb: *x\n", 3, 4, "unknown anchor \"x\"");
}

static void
test_alias_bomb_is_refused(void **state)
{
    const char *bomb =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
        "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    ctl_manifest_error err;

    (void)state;
    assert_null(ctl_manifest_parse_yaml(bomb, strlen(bomb), &err));
    assert_non_null(strstr(err.problem, "expand to more than 1000000 nodes"));
    assert_true(err.line >= 6 && err.line <= 8);

    /* Merges are charged too. */
    {
        char text[4096];
        size_t n = 0;

        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                              "b: &b {k0: *a, k1: *a, k2: *a, k3: *a, k4: *a,"
                              " k5: *a, k6: *a, k7: *a, k8: *a, k9: *a}\n");
        for (char c = 'c'; c <= 'i'; c++)
            n += (size_t)snprintf(text + n, sizeof(text) - n,
                                  "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c,"
                                  " *%c, *%c, *%c]\n",
                                  c, c, c - 1, c - 1, c - 1, c - 1, c - 1,
                                  c - 1, c - 1, c - 1, c - 1, c - 1);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "j: {<<: *i}\n");
        assert_null(ctl_manifest_parse_yaml(text, n, &err));
        assert_non_null(strstr(err.problem, "expand to more than"));
    }
}

static char *
nested(unsigned levels, const char *inner)
{
    size_t len = levels * 2 + strlen(inner) + 1;
    char *s = malloc(len);

    memset(s, '[', levels);
    strcpy(s + levels, inner);
    memset(s + levels + strlen(inner), ']', levels);
    s[len - 1] = '\0';
    return s;
}

static void
test_nesting_is_bounded(void **state)
{
    ctl_manifest_error err;
    char *ok = nested(CTL_MANIFEST_MAX_DEPTH, "1");
    char *deep = nested(CTL_MANIFEST_MAX_DEPTH + 1, "1");
    cJSON *docs;

    (void)state;
    docs = ctl_manifest_parse_yaml(ok, strlen(ok), &err);
    assert_non_null(docs);
    cJSON_Delete(docs);
    assert_null(ctl_manifest_parse_yaml(deep, strlen(deep), &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, CTL_MANIFEST_MAX_DEPTH + 1);
    assert_non_null(strstr(err.problem, "nesting deeper than 64"));

    /* An alias may not carry a deep subtree below the limit either. */
    {
        char *sub = nested(40, "1");
        char text[512];

        snprintf(text, sizeof(text), "a: &a %s\nb: [[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]\n", sub);
        assert_null(ctl_manifest_parse_yaml(text, strlen(text), &err));
        assert_non_null(strstr(err.problem, "nesting deeper"));
        assert_int_equal(err.line, 2);
        free(sub);
    }

    docs = ctl_manifest_parse_json(deep, strlen(deep), &err);
    assert_null(docs);
    assert_non_null(strstr(err.problem, "nesting deeper"));
    docs = ctl_manifest_parse_json(ok, strlen(ok), &err);
    assert_non_null(docs);
    cJSON_Delete(docs);
    free(ok);
    free(deep);
}

static void
test_syntax_errors_name_line_and_column(void **state)
{
    (void)state;
    expect_error("key: value\n  bad: indent\n", 2, 6,
                 "mapping values are not allowed");
    expect_error("a: 1\nb: [1, 2\nc: 3\n", 3, 2,
                 "did not find expected ',' or ']'");
    expect_error("a: 1\nb: 2\na: 3\n", 1, 1, "duplicate key \"a\"");
    expect_error("a:\n  - x\n  - y: *nope\n", 3, 8, "unknown anchor \"nope\"");
    expect_error("? [a, b]\n: 1\n", 1, 3, "mapping keys must be scalars");
    expect_error("a: \"x\\0y\"\n", 1, 4, "NUL");
    expect_error("a: {<<: 5}\n", 1, 9, "merge key");
    expect_error("a: b\n\xff\xfe: c\n", 2, 1, "invalid");
}

static void
test_json_documents(void **state)
{
    const char *text = "\xef\xbb\xbf{\"kind\": \"List\", \"items\": "
                       "[{\"metadata\": {\"name\": \"x\"}}]}\n";
    ctl_manifest_error err;
    cJSON *docs = ctl_manifest_parse_json(text, strlen(text), &err);
    visits v;

    (void)state;
    assert_non_null(docs);
    memset(&v, 0, sizeof(v));
    ctl_manifest_for_each_object(docs, record_object, &v);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.seen[0], "1.1:x");
    cJSON_Delete(docs);

    text = "{\n  \"a\": 1,\n  \"b\": ]\n}\n";
    assert_null(ctl_manifest_parse_json(text, strlen(text), &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);
    assert_string_equal(err.problem, "invalid JSON");

    text = "{\"a\": 1}\n{\"b\": 2}\n";
    assert_null(ctl_manifest_parse_json(text, strlen(text), &err));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
}

static char tmpdir[64];

static char *
write_tmp(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void
test_files_are_read_by_extension(void **state)
{
    ctl_manifest_error err;
    cJSON *docs;
    int fd;
    char path[256];

    (void)state;
    /* JSON syntax is also YAML, but .json files go to the JSON parser. */
    docs = ctl_manifest_read_file(write_tmp("a.json", "{\"x\": 1}"), &err);
    assert_non_null(docs);
    want_number(doc0(docs), "x", 1);
    cJSON_Delete(docs);
    assert_null(ctl_manifest_read_file(write_tmp("b.json", "x: 1\n"), &err));
    assert_string_equal(err.problem, "invalid JSON");
    docs = ctl_manifest_read_file(write_tmp("c.yml", "x: 1\n---\ny: 2\n"), &err);
    assert_non_null(docs);
    assert_int_equal(cJSON_GetArraySize(docs), 2);
    cJSON_Delete(docs);

    snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
    assert_null(ctl_manifest_read_file(path, &err));
    assert_non_null(strstr(err.problem, "cannot open"));

    snprintf(path, sizeof(path), "%s/huge.yaml", tmpdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)CTL_MANIFEST_MAX_FILE + 1), 0);
    close(fd);
    assert_null(ctl_manifest_read_file(path, &err));
    assert_non_null(strstr(err.problem, "larger than"));

    assert_null(ctl_manifest_read_file(tmpdir, &err));
    assert_string_equal(err.problem, "not a regular file");
}

static int
make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_manifest.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_scalars_follow_the_core_schema),
        cmocka_unit_test(test_quoted_and_block_scalars_are_strings),
        cmocka_unit_test(test_keys_are_text_whatever_they_resolve_to),
        cmocka_unit_test(test_documents_keep_their_indexes),
        cmocka_unit_test(test_lists_stand_for_their_items),
        cmocka_unit_test(test_for_each_stops_on_request),
        cmocka_unit_test(test_anchors_aliases_and_merges),
        cmocka_unit_test(test_anchors_do_not_cross_documents),
        cmocka_unit_test(test_alias_bomb_is_refused),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test(test_syntax_errors_name_line_and_column),
        cmocka_unit_test(test_json_documents),
        cmocka_unit_test(test_files_are_read_by_extension),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
