"""The few Pango, fontconfig and HarfBuzz calls text layout needs, bound with cffi (ABI mode).

Why not pangocffi: its declarations keep PangoGlyphInfo and PangoItem opaque, so the glyph ids
and positions a layout drew cannot be read (the oracle tests compare them with HarfBuzz), and it
binds no fontconfig, so a layout could not be held to the bundled and uploaded fonts alone.
The libraries are Debian's (libpangocairo-1.0-0 and what it depends on); cairo is the one
cairocffi (and so cairosvg) loaded, as the same contexts are shared.
"""

from __future__ import annotations

import ctypes.util

import cffi

ffi = cffi.FFI()
ffi.cdef(
    """
    typedef int gboolean;
    typedef unsigned int guint32;
    typedef struct _FcConfig FcConfig;
    typedef struct _FcPattern FcPattern;
    typedef struct _PangoFontMap PangoFontMap;
    typedef struct _PangoContext PangoContext;
    typedef struct _PangoLayout PangoLayout;
    typedef struct _PangoLayoutIter PangoLayoutIter;
    typedef struct _PangoFont PangoFont;
    typedef struct _PangoFontDescription PangoFontDescription;
    typedef struct _PangoLanguage PangoLanguage;
    typedef struct _PangoAttrList PangoAttrList;
    typedef struct _PangoAttribute PangoAttribute;
    typedef struct _cairo cairo_t;
    typedef struct _cairo_font_options cairo_font_options_t;

    typedef struct { int x; int y; int width; int height; } PangoRectangle;
    typedef struct { int width; int x_offset; int y_offset; } PangoGlyphGeometry;
    typedef struct { unsigned int is_cluster_start : 1; unsigned int is_color : 1; }
        PangoGlyphVisAttr;
    typedef struct {
        guint32 glyph; PangoGlyphGeometry geometry; PangoGlyphVisAttr attr;
    } PangoGlyphInfo;
    typedef struct {
        int num_glyphs; PangoGlyphInfo *glyphs; int *log_clusters; int space;
    } PangoGlyphString;
    typedef struct {
        void *shape_engine; void *lang_engine; PangoFont *font;
        unsigned char level; unsigned char gravity; unsigned char flags; unsigned char script;
        PangoLanguage *language; void *extra_attrs;
    } PangoAnalysis;
    typedef struct { int offset; int length; int num_chars; PangoAnalysis analysis; } PangoItem;
    typedef struct { PangoItem *item; PangoGlyphString *glyphs; } PangoGlyphItem;
    typedef struct {
        PangoLayout *layout; int start_index; int length; void *runs;
        unsigned int is_paragraph_start : 1; unsigned int resolved_dir : 3;
    } PangoLayoutLine;

    FcConfig *FcConfigCreate(void);
    void FcConfigDestroy(FcConfig *config);
    int FcConfigAppFontAddFile(FcConfig *config, const char *file);
    int FcPatternGetString(const FcPattern *p, const char *object, int n, char **s);
    int FcPatternGetInteger(const FcPattern *p, const char *object, int n, int *i);
    int FcGetVersion(void);

    const char *pango_version_string(void);
    PangoFontMap *pango_cairo_font_map_new_for_font_type(int fonttype);
    void pango_fc_font_map_set_config(PangoFontMap *fcfontmap, FcConfig *fcconfig);
    FcPattern *pango_fc_font_get_pattern(PangoFont *font);
    PangoContext *pango_font_map_create_context(PangoFontMap *fontmap);
    void pango_cairo_context_set_font_options(PangoContext *context,
                                              const cairo_font_options_t *options);
    void pango_context_set_round_glyph_positions(PangoContext *context, gboolean round);
    void pango_context_set_language(PangoContext *context, PangoLanguage *language);
    void pango_context_set_base_dir(PangoContext *context, int direction);
    PangoLanguage *pango_language_from_string(const char *language);

    PangoFontDescription *pango_font_description_new(void);
    void pango_font_description_set_family(PangoFontDescription *desc, const char *family);
    void pango_font_description_set_weight(PangoFontDescription *desc, int weight);
    void pango_font_description_set_style(PangoFontDescription *desc, int style);
    void pango_font_description_set_absolute_size(PangoFontDescription *desc, double size);
    void pango_font_description_free(PangoFontDescription *desc);

    PangoLayout *pango_layout_new(PangoContext *context);
    PangoAttrList *pango_attr_list_new(void);
    void pango_attr_list_unref(PangoAttrList *list);
    void pango_attr_list_insert(PangoAttrList *list, PangoAttribute *attr);
    PangoAttribute *pango_attr_letter_spacing_new(int letter_spacing);
    PangoAttribute *pango_attr_font_features_new(const char *features);
    void pango_layout_set_attributes(PangoLayout *layout, PangoAttrList *attrs);
    void pango_layout_set_text(PangoLayout *layout, const char *text, int length);
    void pango_layout_set_font_description(PangoLayout *layout,
                                           const PangoFontDescription *desc);
    void pango_layout_set_width(PangoLayout *layout, int width);
    void pango_layout_set_height(PangoLayout *layout, int height);
    void pango_layout_set_wrap(PangoLayout *layout, int wrap);
    void pango_layout_set_ellipsize(PangoLayout *layout, int ellipsize);
    void pango_layout_set_alignment(PangoLayout *layout, int alignment);
    void pango_layout_set_auto_dir(PangoLayout *layout, gboolean auto_dir);
    int pango_layout_get_line_count(PangoLayout *layout);
    void pango_layout_context_changed(PangoLayout *layout);
    int pango_find_base_dir(const char *text, int length);
    PangoLayoutLine *pango_layout_iter_get_line_readonly(PangoLayoutIter *iter);
    void pango_cairo_layout_line_path(cairo_t *cr, PangoLayoutLine *line);
    gboolean pango_layout_is_ellipsized(PangoLayout *layout);
    PangoLayoutIter *pango_layout_get_iter(PangoLayout *layout);
    void pango_layout_iter_free(PangoLayoutIter *iter);
    gboolean pango_layout_iter_next_run(PangoLayoutIter *iter);
    gboolean pango_layout_iter_next_line(PangoLayoutIter *iter);
    PangoGlyphItem *pango_layout_iter_get_run_readonly(PangoLayoutIter *iter);
    void pango_layout_iter_get_run_extents(PangoLayoutIter *iter, PangoRectangle *ink,
                                           PangoRectangle *logical);
    void pango_layout_iter_get_line_extents(PangoLayoutIter *iter, PangoRectangle *ink,
                                            PangoRectangle *logical);
    void g_object_unref(void *object);

    const char *hb_version_string(void);
    typedef struct _FT_LibraryRec *FT_Library;
    int FT_Init_FreeType(FT_Library *library);
    void FT_Library_Version(FT_Library library, int *major, int *minor, int *patch);
    int FT_Done_FreeType(FT_Library library);
    extern const char *fribidi_version_info;
    """
)


# Never unloaded: cffi frees the Pango objects it holds in the interpreter's last collection,
# after it may have closed their libraries (g_object_unref then jumps into unmapped code and
# the process dies at exit with SIGSEGV, as a process that validated a template did).
_DLOPEN_FLAGS = ffi.RTLD_NOW | ffi.RTLD_NODELETE


def _open(name: str):
    # By soname first: find_library needs ldconfig's cache, which a slim image may lack.
    for candidate in (f"lib{name}.so.0", f"lib{name}.so.1", f"lib{name}.so.6"):
        try:
            return ffi.dlopen(candidate, _DLOPEN_FLAGS)
        except OSError:
            continue
    found = ctypes.util.find_library(name)
    if found is None:
        raise OSError(f"lib{name} is not installed (Debian: libpangocairo-1.0-0)")
    return ffi.dlopen(found, _DLOPEN_FLAGS)


fontconfig = _open("fontconfig")
pango = _open("pango-1.0")
pangoft2 = _open("pangoft2-1.0")
pangocairo = _open("pangocairo-1.0")
gobject = _open("gobject-2.0")
harfbuzz = _open("harfbuzz")
freetype = _open("freetype")
fribidi = _open("fribidi")

PANGO_SCALE = 1024
CAIRO_FONT_TYPE_FT = 1
PANGO_WRAP_WORD_CHAR = 2
PANGO_ELLIPSIZE_END = 3
PANGO_ALIGN_LEFT, PANGO_ALIGN_CENTER, PANGO_ALIGN_RIGHT = 0, 1, 2
PANGO_DIRECTION_LTR, PANGO_DIRECTION_RTL = 0, 1
PANGO_WEIGHT_NORMAL, PANGO_WEIGHT_BOLD = 400, 700
PANGO_STYLE_NORMAL, PANGO_STYLE_ITALIC = 0, 2
PANGO_GLYPH_EMPTY = 0x0FFFFFFF
PANGO_GLYPH_UNKNOWN_FLAG = 0x10000000


def versions() -> dict[str, str]:
    """The shaping stack's versions, as the loaded libraries report them."""
    library = ffi.new("FT_Library *")
    freetype.FT_Init_FreeType(library)
    major, minor, patch = (ffi.new("int *") for _ in range(3))
    freetype.FT_Library_Version(library[0], major, minor, patch)
    freetype.FT_Done_FreeType(library[0])
    fc = fontconfig.FcGetVersion()
    fribidi_info = ffi.string(fribidi.fribidi_version_info).decode().splitlines()[0]
    return {
        "pango": ffi.string(pango.pango_version_string()).decode(),
        "harfbuzz": ffi.string(harfbuzz.hb_version_string()).decode(),
        "freetype": f"{major[0]}.{minor[0]}.{patch[0]}",
        "fontconfig": f"{fc // 10000}.{fc // 100 % 100}.{fc % 100}",
        "fribidi": fribidi_info.split()[-1].strip("()"),
    }
