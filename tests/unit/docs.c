/*
 * docs.c — the project's documents live in the project.  No tracked file
 * cites a Markdown document that the tree does not hold.  Every relative
 * link in a Markdown file reaches a file of the tree, and a heading when it
 * names one.  Every section of docs/algorithms.md that a file cites
 * exists.  Every test that docs/algorithms.md names exists in the file it
 * names it in.
 *
 * "Tracked" means `git ls-files` when the source root is a git work tree.
 * Otherwise (a copy of the tree without its history) it means every file
 * under the root except .git, build*, data and runs, which .gitignore keeps
 * out of git.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

enum { MAX_TEXT_BYTES = 4 << 20 };

typedef struct file_list {
    char **paths; /* [n] relative to the source root */
    size_t n, cap;
} file_list;

static void list_add(file_list *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
        CU_ASSERT_PTR_NOT_NULL_FATAL(l->paths);
    }
    l->paths[l->n++] = strdup(path);
}

static void list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

static int ignored_top_level(const char *name)
{
    return strcmp(name, ".git") == 0 || strncmp(name, "build", 5) == 0 ||
           strcmp(name, "data") == 0 || strcmp(name, "runs") == 0;
}

/* Every regular file under root/rel, recursively (rel "" at the top). */
static void walk(file_list *l, const char *rel)
{
    DIR *d = opendir(rel[0] ? test_root_path(rel) : test_root_dir());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (!rel[0] && ignored_top_level(e->d_name)) || strcmp(e->d_name, "__pycache__") == 0)
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        struct stat st;
        if (lstat(test_root_path(child), &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(l, child);
        else if (S_ISREG(st.st_mode))
            list_add(l, child);
    }
    closedir(d);
}

static file_list tracked_files(void)
{
    file_list l = {0};
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cd '%s' && git -c core.quotepath=off ls-files 2>/dev/null",
             test_root_dir());
    test_output o = test_run(cmd, 60);
    if (o.status == 0)
        for (char *save = NULL, *line = strtok_r(o.out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            list_add(&l, line);
    test_output_free(&o);
    if (l.n == 0)
        walk(&l, "");
    CU_ASSERT_FATAL(l.n > 10);
    return l;
}

/* A tracked file's text; NULL for binary (a NUL byte), large or missing files. */
static char *text_of(const char *rel)
{
    size_t size = 0;
    char *text = test_read_file(test_root_path(rel), &size);
    if (text && (size > MAX_TEXT_BYTES || memchr(text, '\0', size))) {
        free(text);
        return NULL;
    }
    return text;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int is_tracked(const file_list *l, const char *rel)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->paths[i], rel) == 0)
            return 1;
    return 0;
}

/* Whether some tracked Markdown file has this base name. */
static int is_tracked_markdown_name(const file_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (ends_with(l->paths[i], ".md") && strcmp(base_name(l->paths[i]), name) == 0)
            return 1;
    return 0;
}

static int path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == '/';
}

/* Every Markdown file a tracked file cites (a word ending in .md) is one
 * the tree holds: its base name is that of a tracked Markdown file, and a
 * citation under docs/ is that very path.  Other directories are allowed
 * before a known base name, as in tools/reproduce's "DIR/results.md". */
LSGD_TEST(docs, no_tracked_file_cites_a_markdown_document_the_tree_does_not_hold)
{
    file_list l = tracked_files();
    int bad = 0;
    for (size_t i = 0; i < l.n; i++) {
        char *text = text_of(l.paths[i]);
        for (char *p = text ? strstr(text, ".md") : NULL; p; p = strstr(p + 3, ".md")) {
            if (path_char(p[3]) && p[3] != '.' && p[3] != '/')
                continue; /* ".mdx", ".md_…": not a Markdown name */
            char *start = p;
            while (start > text && path_char(start[-1]))
                start--;
            char cited[512];
            int n = (int)(p + 3 - start);
            if (n <= 3 || n >= (int)sizeof cited)
                continue;
            snprintf(cited, sizeof cited, "%.*s", n, start);
            int ok = is_tracked_markdown_name(&l, base_name(cited)) &&
                     (strncmp(cited, "docs/", 5) != 0 || is_tracked(&l, cited));
            if (!ok) {
                int line = 1;
                for (const char *q = text; q < start; q++)
                    line += *q == '\n';
                fprintf(stderr, "\n  %s:%d cites %s, which is not in the project", l.paths[i],
                        line, cited);
                bad++;
            }
        }
        free(text);
    }
    CU_ASSERT_EQUAL(bad, 0);
    list_free(&l);
}

/* The issue tracker and the machines' own directories are not in the
 * project either: no tracked file says "issue N" or names a path under
 * /work (a reader of the tree cannot open them; say what the target is). */
LSGD_TEST(docs, no_tracked_file_cites_an_issue_number_or_a_path_outside_the_tree)
{
    static const char *const needles[] = {"issue ", "/work/"}; /* split below: not cited here */
    file_list l = tracked_files();
    int bad = 0;
    for (size_t i = 0; i < l.n; i++) {
        char *text = text_of(l.paths[i]);
        for (size_t k = 0; text && k < 2; k++) {
            for (char *p = strcasestr(text, needles[k]); p; p = strcasestr(p + 1, needles[k])) {
                const char *after = p + strlen(needles[k]);
                int cites = k == 0 ? (*after >= '0' && *after <= '9')
                                   : (strncmp(after, "shared", 6) == 0 ||
                                      strncmp(after, "wt", 2) == 0 ||
                                      strncmp(after, "main", 4) == 0);
                if (!cites)
                    continue;
                int line = 1;
                for (const char *q = text; q < p; q++)
                    line += *q == '\n';
                fprintf(stderr, "\n  %s:%d cites '%.*s', which is not in the project",
                        l.paths[i], line, (int)strcspn(p, "\n\"')"), p);
                bad++;
            }
        }
        free(text);
    }
    CU_ASSERT_EQUAL(bad, 0);
    list_free(&l);
}

/* GitHub's anchor of a heading: lower case, spaces to '-', ASCII
 * punctuation other than '-' and '_' dropped, and '§' dropped; other
 * non-ASCII bytes (letters) kept. */
static void heading_slug(char *out, size_t cap, const char *heading, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)heading[i];
        if (c == 0xC2 && i + 1 < len && (unsigned char)heading[i + 1] == 0xA7) {
            i++; /* § */
        } else if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' ||
                   c == '_') {
            out[k++] = (char)c;
        } else if (c >= 'A' && c <= 'Z') {
            out[k++] = (char)(c - 'A' + 'a');
        } else if (c == ' ') {
            out[k++] = '-';
        }
    }
    out[k] = '\0';
}

/* Whether a Markdown text has a heading whose anchor is `anchor`. */
static int has_anchor(const char *markdown, const char *anchor)
{
    for (const char *line = markdown; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] == '#') {
            const char *h = line;
            while (*h == '#')
                h++;
            while (*h == ' ')
                h++;
            char slug[512];
            heading_slug(slug, sizeof slug, h, len - (size_t)(h - line));
            if (strcmp(slug, anchor) == 0)
                return 1;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

/* A link target of md_path, "path#anchor" or "#anchor": 1 when it reaches
 * a file of the tree (and the heading), else prints why and returns 0. */
static int link_reaches(const char *md_path, const char *md_text, const char *target)
{
    char path[1024], resolved[2048];
    const char *hash = strchr(target, '#');
    size_t plen = hash ? (size_t)(hash - target) : strlen(target);
    snprintf(path, sizeof path, "%.*s", (int)plen, target);
    const char *anchor = hash ? hash + 1 : "";
    const char *dir_end = strrchr(md_path, '/');
    if (dir_end)
        snprintf(resolved, sizeof resolved, "%.*s/%s", (int)(dir_end - md_path), md_path, path);
    else
        snprintf(resolved, sizeof resolved, "%s", path);
    struct stat st;
    if (path[0] && stat(test_root_path(resolved), &st) != 0) {
        fprintf(stderr, "\n  %s links %s: no such file in the project", md_path, target);
        return 0;
    }
    if (!anchor[0] || (path[0] && !ends_with(path, ".md")))
        return 1;
    char *other = path[0] ? test_read_file(test_root_path(resolved), NULL) : NULL;
    int found = has_anchor(path[0] ? other : md_text, anchor);
    free(other);
    if (!found)
        fprintf(stderr, "\n  %s links %s: no heading with that anchor", md_path, target);
    return found;
}

LSGD_TEST(docs, every_relative_link_in_a_markdown_file_reaches_a_file_and_heading_of_the_tree)
{
    file_list l = tracked_files();
    int bad = 0, links = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (!ends_with(l.paths[i], ".md"))
            continue;
        char *text = text_of(l.paths[i]);
        for (char *p = text ? strstr(text, "](") : NULL; p; p = strstr(p + 2, "](")) {
            const char *t = p + 2, *close = strchr(t, ')');
            if (!close || close - t >= 1000 || memchr(t, ' ', (size_t)(close - t)))
                continue;
            char target[1024];
            snprintf(target, sizeof target, "%.*s", (int)(close - t), t);
            if (strstr(target, "://") || strncmp(target, "mailto:", 7) == 0)
                continue;
            links++;
            bad += !link_reaches(l.paths[i], text, target);
        }
        free(text);
    }
    CU_ASSERT(links > 0);
    CU_ASSERT_EQUAL(bad, 0);
    list_free(&l);
}

/* The section ids of docs/algorithms.md: headings "## §2", "### §1.2.5 …". */
static int has_section(const char *algorithms, const char *id)
{
    char heading[64];
    snprintf(heading, sizeof heading, " §%.15s ", id);
    for (const char *p = strstr(algorithms, heading); p; p = strstr(p + 1, heading)) {
        const char *line = p;
        while (line > algorithms && line[-1] != '\n')
            line--;
        if (line[0] == '#')
            return 1;
    }
    return 0;
}

/* "§1.2, §1.5", "§1–§5": the ids after p, into ids[]; returns how many. */
static int cited_sections(const char *p, char ids[][16], int max)
{
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '-' || *p == '(')
            p++;
        if (strncmp(p, "\xE2\x80\x93", 3) == 0) { /* – */
            p += 3;
            continue;
        }
        if (strncmp(p, "and ", 4) == 0) {
            p += 4;
            continue;
        }
        if (strncmp(p, "\xC2\xA7", 2) != 0 || n == max)
            return n;
        p += 2;
        size_t len = 0;
        while ((p[len] >= '0' && p[len] <= '9') || (p[len] == '.' && p[len + 1] >= '0' &&
                                                    p[len + 1] <= '9'))
            len++;
        snprintf(ids[n++], sizeof ids[0], "%.*s", (int)(len < 15 ? len : 15), p);
        p += len;
    }
}

LSGD_TEST(docs, every_section_of_docs_algorithms_md_cited_in_the_tree_exists)
{
    char *algorithms = test_read_file(test_root_path("docs/algorithms.md"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(algorithms);
    file_list l = tracked_files();
    int bad = 0, cited = 0;
    const char *name = "docs/algorithms.md";
    for (size_t i = 0; i < l.n; i++) {
        char *text = text_of(l.paths[i]);
        int self = strcmp(l.paths[i], name) == 0;
        const char *needle = self ? "\xC2\xA7" : name;
        for (char *p = text ? strstr(text, needle) : NULL; p; p = strstr(p + 1, needle)) {
            char ids[16][16];
            int n = cited_sections(self ? p : p + strlen(name), ids, 16);
            for (int k = 0; k < n; k++) {
                cited++;
                if (ids[k][0] && !has_section(algorithms, ids[k])) {
                    fprintf(stderr, "\n  %s cites docs/algorithms.md §%s, which has no such "
                            "section", l.paths[i], ids[k]);
                    bad++;
                }
            }
        }
        free(text);
    }
    CU_ASSERT(cited > 0);
    CU_ASSERT_EQUAL(bad, 0);
    list_free(&l);
    free(algorithms);
}

/* "`tests/unit/X.c`: `a`, `b`; …" (names may wrap to the next line):
 * every name is an LSGD_TEST (or a TORCH_CASE) of X.c. */
static const char *skip_space(const char *q)
{
    while (*q == ' ' || *q == '\n')
        q++;
    return q;
}

/* Checks the names listed after the file name that ends at q; returns
 * how many are missing, and adds the names seen to *named. */
static int check_named_tests(const char *file, const char *q, int *named)
{
    char *source = test_read_file(test_root_path(file), NULL);
    if (!source) {
        fprintf(stderr, "\n  docs/algorithms.md names %s, which does not exist", file);
        return 1;
    }
    int bad = 0;
    for (q = skip_space(q); *q == '`';) {
        const char *close = strchr(q + 1, '`');
        if (!close || close - q > 120)
            break;
        char test[128], as_test[160], as_case[160];
        snprintf(test, sizeof test, "%.*s", (int)(close - q - 1), q + 1);
        snprintf(as_test, sizeof as_test, ", %s)", test);
        snprintf(as_case, sizeof as_case, "TORCH_CASE(%s,", test);
        (*named)++;
        if (!strstr(source, as_test) && !strstr(source, as_case)) {
            fprintf(stderr, "\n  docs/algorithms.md names test %s in %s, which has none of "
                    "that name", test, file);
            bad++;
        }
        q = close + 1;
        if (*q != ',')
            break;
        q = skip_space(q + 1);
    }
    free(source);
    return bad;
}

LSGD_TEST(docs, every_test_that_docs_algorithms_md_names_exists_in_the_file_it_names)
{
    char *algorithms = test_read_file(test_root_path("docs/algorithms.md"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(algorithms);
    int bad = 0, named = 0;
    for (char *p = strstr(algorithms, "`tests/unit/"); p; p = strstr(p + 1, "`tests/unit/")) {
        size_t len = strcspn(p + 1, "`\n");
        if (p[1 + len] != '`' || p[2 + len] != ':' || len >= 128)
            continue; /* a file mentioned, no list of tests after it */
        char file[128];
        snprintf(file, sizeof file, "%.*s", (int)len, p + 1);
        bad += check_named_tests(file, p + 3 + len, &named);
    }
    CU_ASSERT(named > 40);
    CU_ASSERT_EQUAL(bad, 0);
    free(algorithms);
}
