/*
 * _shmetrics - the CPython extension under the shmetrics package: libshmetrics
 * (linked in statically) as three types.  The package (__init__.py) adds the
 * Python-side conveniences; everything on the update path is here, so that an
 * increment is one C method call and one atomic add (docs/python.md says why
 * this is an extension and not ctypes, with the figures).
 *
 *	Collector(name=None, instance=None, interval_ms=0)
 *	    .family(kind, name, help, labelnames, aggregate, buckets, child_type)
 *	    .publish()  .close()  .name  .interval_ms  .worker_slot  .closed
 *	Family      .labels(*values, **labels)  .inc(n=1)  .dec(n=1)  .set(v)
 *	            .observe(v)  (the last four on a family without labels)
 *	Series      .inc(n=1)  .dec(n=1)  .set(v)  .observe(v)
 *
 * A Series and a Family hold a reference to their Collector and check that it
 * is open before every call: after close() the library's handles are gone.
 * Fork needs nothing here: the library notices it and the child attaches as a
 * new worker at its first call (include/shmetrics.h).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "shmetrics.h"

#define KIND_COUNTER   0
#define KIND_GAUGE     1
#define KIND_HISTOGRAM 2

typedef struct {
	PyObject_HEAD struct shmetrics *m; /* NULL once closed */
	PyObject *name;
} CollectorObject;

typedef struct {
	PyObject_HEAD CollectorObject *owner;
	struct shmetrics_series *s;
	int kind;
} SeriesObject;

typedef struct {
	PyObject_HEAD CollectorObject *owner;
	struct shmetrics_family *f;
	int kind;
	Py_ssize_t n_labels;
	PyObject *labelnames;     /* tuple of str */
	PyObject *children;       /* dict: tuple of label values -> Series */
	PyTypeObject *child_type; /* a subclass of Series, made by the package */
	SeriesObject *solo;       /* the series of a family without labels */
} FamilyObject;

static PyTypeObject CollectorType, FamilyType, SeriesType;

/* ---- errors ---- */

static PyObject *raise_library(int rc)
{
	PyObject *type = rc == -EINVAL || rc == -EEXIST ? PyExc_ValueError
			 : rc == -ENOSPC                ? PyExc_OverflowError
							: PyExc_OSError;
	if (type == PyExc_OSError)
		PyErr_SetObject(type, Py_BuildValue("(is)", -rc, shmetrics_last_error()));
	else
		PyErr_SetString(type, shmetrics_last_error());
	return NULL;
}

static int closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, "the collector is closed");
	return -1;
}

/* ---- updates (the hot path) ---- */

/* n from args[0] (default 1): a float; an int is taken exactly. */
static int amount(PyObject *const *args, Py_ssize_t nargs, double *out)
{
	if (nargs == 0) {
		*out = 1.0;
		return 0;
	}
	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "expected at most one amount");
		return -1;
	}
	*out = PyFloat_AsDouble(args[0]);
	return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

static PyObject *done(int rc)
{
	if (rc < 0)
		return raise_library(rc);
	Py_RETURN_NONE;
}

static PyObject *series_inc(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	double n;

	if (self->owner->m == NULL)
		return closed_error(), NULL;
	if (nargs == 0)
		return done(shmetrics_inc(self->s));
	if (amount(args, nargs, &n) < 0)
		return NULL;
	if (self->kind == KIND_COUNTER && n < 0) {
		PyErr_SetString(PyExc_ValueError, "counters can only be incremented by "
						  "non-negative amounts");
		return NULL;
	}
	return done(n == 1.0 ? shmetrics_inc(self->s) : shmetrics_add(self->s, n));
}

static PyObject *series_dec(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	double n;

	if (self->owner->m == NULL)
		return closed_error(), NULL;
	if (amount(args, nargs, &n) < 0)
		return NULL;
	if (self->kind != KIND_GAUGE) {
		PyErr_SetString(PyExc_ValueError, "only gauges can be decremented");
		return NULL;
	}
	return done(shmetrics_add(self->s, -n));
}

static PyObject *series_set(SeriesObject *self, PyObject *value)
{
	double v = PyFloat_AsDouble(value);

	if (v == -1.0 && PyErr_Occurred())
		return NULL;
	if (self->owner->m == NULL)
		return closed_error(), NULL;
	return done(shmetrics_set(self->s, v));
}

static PyObject *series_observe(SeriesObject *self, PyObject *value)
{
	double v = PyFloat_AsDouble(value);

	if (v == -1.0 && PyErr_Occurred())
		return NULL;
	if (self->owner->m == NULL)
		return closed_error(), NULL;
	return done(shmetrics_observe(self->s, v));
}

static void series_dealloc(SeriesObject *self)
{
	Py_XDECREF(self->owner);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef series_methods[] = {
	{ "inc", (PyCFunction)(void (*)(void))series_inc, METH_FASTCALL,
	  "inc(n=1): add n (>= 0 for a counter)." },
	{ "dec", (PyCFunction)(void (*)(void))series_dec, METH_FASTCALL,
	  "dec(n=1): subtract n from a gauge." },
	{ "set", (PyCFunction)series_set, METH_O, "set(v): a gauge's value." },
	{ "observe", (PyCFunction)series_observe, METH_O, "observe(v): one observation." },
	{ NULL, NULL, 0, NULL },
};

static PyTypeObject SeriesType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._shmetrics.Series",
	.tp_basicsize = sizeof(SeriesObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "One series of a family: one set of label values.",
	.tp_dealloc = (destructor)series_dealloc,
	.tp_methods = series_methods,
};

/* A Series of type t (the family's child type) for handle s. */
static SeriesObject *series_new(PyTypeObject *t, FamilyObject *f, struct shmetrics_series *s)
{
	SeriesObject *o = (SeriesObject *)t->tp_alloc(t, 0);

	if (o == NULL)
		return NULL;
	Py_INCREF(f->owner);
	o->owner = f->owner;
	o->s = s;
	o->kind = f->kind;
	return o;
}

/* ---- families ---- */

/* The label values of a labels() call, as a tuple of str in the order of the
 * label names. */
static PyObject *label_key(FamilyObject *self, PyObject *args, PyObject *kwargs)
{
	Py_ssize_t n = PyTuple_GET_SIZE(args);

	if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
		if (n > 0) {
			PyErr_SetString(PyExc_ValueError, "labels(): give values by position or "
							  "by name, not both");
			return NULL;
		}
		PyObject *key = PyTuple_New(self->n_labels);
		for (Py_ssize_t i = 0; key != NULL && i < self->n_labels; i++) {
			PyObject *name = PyTuple_GET_ITEM(self->labelnames, i);
			PyObject *v = PyDict_GetItemWithError(kwargs, name);
			if (v == NULL) {
				if (!PyErr_Occurred())
					PyErr_Format(PyExc_ValueError, "labels(): no value for %U",
						     name);
				Py_DECREF(key);
				return NULL;
			}
			PyObject *str = PyObject_Str(v);
			if (str == NULL) {
				Py_DECREF(key);
				return NULL;
			}
			PyTuple_SET_ITEM(key, i, str);
		}
		if (key != NULL && PyDict_GET_SIZE(kwargs) != self->n_labels) {
			PyErr_SetString(PyExc_ValueError, "labels(): unknown label names");
			Py_CLEAR(key);
		}
		return key;
	}
	if (n != self->n_labels) {
		PyErr_Format(PyExc_ValueError, "labels(): %zd value(s) given for %zd label name(s)",
			     n, self->n_labels);
		return NULL;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(args, i)))
			goto convert;
	Py_INCREF(args);
	return args;
convert:;
	PyObject *key = PyTuple_New(n);
	for (Py_ssize_t i = 0; key != NULL && i < n; i++) {
		PyObject *str = PyObject_Str(PyTuple_GET_ITEM(args, i));
		if (str == NULL) {
			Py_CLEAR(key);
			break;
		}
		PyTuple_SET_ITEM(key, i, str);
	}
	return key;
}

/* The library's series for key (a tuple of str). */
static struct shmetrics_series *series_of(FamilyObject *self, PyObject *key)
{
	const char *values[SHMETRICS_LABELS_MAX];

	for (Py_ssize_t i = 0; i < self->n_labels; i++) {
		values[i] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(key, i));
		if (values[i] == NULL)
			return NULL;
	}
	struct shmetrics_series *s = shmetrics_series(self->f, values, (size_t)self->n_labels);
	if (s == NULL)
		raise_library(-EINVAL);
	return s;
}

static PyObject *family_labels(FamilyObject *self, PyObject *args, PyObject *kwargs)
{
	if (self->owner->m == NULL)
		return closed_error(), NULL;
	if (self->n_labels == 0) {
		PyErr_SetString(PyExc_ValueError, "labels(): the family has no label names");
		return NULL;
	}
	PyObject *key = label_key(self, args, kwargs);
	if (key == NULL)
		return NULL;
	PyObject *child = PyDict_GetItemWithError(self->children, key);
	if (child != NULL || PyErr_Occurred()) {
		Py_XINCREF(child);
		Py_DECREF(key);
		return child;
	}
	struct shmetrics_series *s = series_of(self, key);
	child = s ? (PyObject *)series_new(self->child_type, self, s) : NULL;
	if (child != NULL && PyDict_SetItem(self->children, key, child) < 0)
		Py_CLEAR(child);
	Py_DECREF(key);
	return child;
}

static SeriesObject *solo(FamilyObject *self)
{
	if (self->solo == NULL)
		PyErr_SetString(PyExc_ValueError,
				"the family has label names: choose a series with labels() first");
	return self->solo;
}

static PyObject *family_inc(FamilyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	SeriesObject *s = solo(self);
	return s ? series_inc(s, args, nargs) : NULL;
}

static PyObject *family_dec(FamilyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	SeriesObject *s = solo(self);
	return s ? series_dec(s, args, nargs) : NULL;
}

static PyObject *family_set(FamilyObject *self, PyObject *v)
{
	SeriesObject *s = solo(self);
	return s ? series_set(s, v) : NULL;
}

static PyObject *family_observe(FamilyObject *self, PyObject *v)
{
	SeriesObject *s = solo(self);
	return s ? series_observe(s, v) : NULL;
}

static int family_traverse(FamilyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->owner);
	Py_VISIT(self->children);
	Py_VISIT(self->solo);
	return 0;
}

static int family_clear(FamilyObject *self)
{
	Py_CLEAR(self->children);
	Py_CLEAR(self->solo);
	Py_CLEAR(self->labelnames);
	Py_CLEAR(self->child_type);
	Py_CLEAR(self->owner);
	return 0;
}

static void family_dealloc(FamilyObject *self)
{
	PyObject_GC_UnTrack(self);
	family_clear(self);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *family_get_labelnames(FamilyObject *self, void *closure)
{
	(void)closure;
	Py_INCREF(self->labelnames);
	return self->labelnames;
}

static PyMethodDef family_methods[] = {
	{ "labels", (PyCFunction)(void (*)(void))family_labels, METH_VARARGS | METH_KEYWORDS,
	  "labels(*values, **labels): the series with these label values." },
	{ "inc", (PyCFunction)(void (*)(void))family_inc, METH_FASTCALL,
	  "inc(n=1): of a family without labels." },
	{ "dec", (PyCFunction)(void (*)(void))family_dec, METH_FASTCALL,
	  "dec(n=1): of a gauge without labels." },
	{ "set", (PyCFunction)family_set, METH_O, "set(v): of a gauge without labels." },
	{ "observe", (PyCFunction)family_observe, METH_O,
	  "observe(v): of a histogram without labels." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef family_getset[] = {
	{ "labelnames", (getter)family_get_labelnames, NULL, "The label names.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject FamilyType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._shmetrics.Family",
	.tp_basicsize = sizeof(FamilyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "A registered metric family.",
	.tp_dealloc = (destructor)family_dealloc,
	.tp_traverse = (traverseproc)family_traverse,
	.tp_clear = (inquiry)family_clear,
	.tp_methods = family_methods,
	.tp_getset = family_getset,
};

/* ---- collectors ---- */

/* The label names as C strings (borrowed from the tuple of str). */
static int names_of(PyObject *labelnames, const char **names, Py_ssize_t *n)
{
	*n = PyTuple_GET_SIZE(labelnames);
	if (*n > SHMETRICS_LABELS_MAX) {
		PyErr_Format(PyExc_ValueError, "%zd label names; at most %d are allowed", *n,
			     SHMETRICS_LABELS_MAX);
		return -1;
	}
	for (Py_ssize_t i = 0; i < *n; i++) {
		PyObject *o = PyTuple_GET_ITEM(labelnames, i);
		if (!PyUnicode_Check(o)) {
			PyErr_SetString(PyExc_TypeError, "label names must be str");
			return -1;
		}
		if ((names[i] = PyUnicode_AsUTF8(o)) == NULL)
			return -1;
	}
	return 0;
}

/* buckets (a sequence of numbers) into bounds; 0 of them: the default buckets. */
static int bounds_of(PyObject *buckets, double *bounds, Py_ssize_t *n)
{
	PyObject *seq = PySequence_Fast(buckets, "buckets must be a sequence of numbers");

	if (seq == NULL)
		return -1;
	*n = PySequence_Fast_GET_SIZE(seq);
	if (*n > SHMETRICS_BUCKETS_MAX) {
		Py_DECREF(seq);
		PyErr_Format(PyExc_ValueError, "%zd buckets; at most %d are allowed", *n,
			     SHMETRICS_BUCKETS_MAX);
		return -1;
	}
	for (Py_ssize_t i = 0; i < *n; i++) {
		bounds[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
		if (bounds[i] == -1.0 && PyErr_Occurred()) {
			Py_DECREF(seq);
			return -1;
		}
	}
	Py_DECREF(seq);
	return 0;
}

static struct shmetrics_family *register_family(struct shmetrics *m, int kind, const char *name,
						const char *help, const char **names, Py_ssize_t n,
						int aggregate, PyObject *buckets)
{
	double bounds[SHMETRICS_BUCKETS_MAX];
	Py_ssize_t nb = 0;

	if (kind == KIND_COUNTER)
		return shmetrics_counter(m, name, help, names, (size_t)n);
	if (kind == KIND_GAUGE)
		return shmetrics_gauge_aggregated(m, name, help, names, (size_t)n, aggregate);
	if (buckets != Py_None && bounds_of(buckets, bounds, &nb) < 0)
		return NULL;
	return shmetrics_histogram(m, name, help, names, (size_t)n, nb ? bounds : NULL, (size_t)nb);
}

/* The family's series without labels, made at once. */
static int make_solo(FamilyObject *f)
{
	if (f->n_labels > 0)
		return 0;
	struct shmetrics_series *s = shmetrics_series(f->f, NULL, 0);
	if (s == NULL) {
		raise_library(-EINVAL);
		return -1;
	}
	f->solo = series_new(f->child_type, f, s);
	return f->solo ? 0 : -1;
}

static FamilyObject *family_new(PyTypeObject *type, CollectorObject *owner, int kind,
				PyObject *labelnames, PyTypeObject *child_type)
{
	FamilyObject *f = (FamilyObject *)type->tp_alloc(type, 0);

	if (f == NULL)
		return NULL;
	Py_INCREF(owner);
	f->owner = owner;
	f->kind = kind;
	Py_INCREF(labelnames);
	f->labelnames = labelnames;
	f->n_labels = PyTuple_GET_SIZE(labelnames);
	Py_INCREF(child_type);
	f->child_type = child_type;
	f->children = PyDict_New();
	if (f->children == NULL)
		Py_CLEAR(f);
	return f;
}

static PyObject *collector_family(CollectorObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "kind",    "name",        "help",       "labelnames", "aggregate",
				  "buckets", "family_type", "child_type", NULL };
	const char *name, *help, *names[SHMETRICS_LABELS_MAX];
	PyObject *labelnames, *buckets;
	PyTypeObject *family_type, *child_type;
	int kind, aggregate;
	Py_ssize_t n;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "issO!iOO!O!", kwlist, &kind, &name, &help,
					 &PyTuple_Type, &labelnames, &aggregate, &buckets,
					 &PyType_Type, &family_type, &PyType_Type, &child_type))
		return NULL;
	if (self->m == NULL)
		return closed_error(), NULL;
	if (!PyType_IsSubtype(family_type, &FamilyType) ||
	    !PyType_IsSubtype(child_type, &SeriesType) || kind < 0 || kind > KIND_HISTOGRAM) {
		PyErr_SetString(PyExc_TypeError, "family(): bad kind or types");
		return NULL;
	}
	if (names_of(labelnames, names, &n) < 0)
		return NULL;
	struct shmetrics_family *sf = register_family(self->m, kind, name, help, names, n,
						      aggregate, buckets);
	if (sf == NULL)
		return PyErr_Occurred() ? NULL : raise_library(-EINVAL);
	FamilyObject *f = family_new(family_type, self, kind, labelnames, child_type);
	if (f == NULL)
		return NULL;
	f->f = sf;
	if (make_solo(f) < 0)
		Py_CLEAR(f);
	return (PyObject *)f;
}

static PyObject *collector_publish(CollectorObject *self, PyObject *unused)
{
	(void)unused;
	if (self->m == NULL)
		return closed_error(), NULL;
	return done(shmetrics_publish(self->m));
}

static PyObject *collector_close(CollectorObject *self, PyObject *unused)
{
	(void)unused;
	struct shmetrics *m = self->m;

	self->m = NULL;
	if (m != NULL) {
		Py_BEGIN_ALLOW_THREADS shmetrics_close(m); /* joins the publisher thread */
		Py_END_ALLOW_THREADS
	}
	Py_RETURN_NONE;
}

static int collector_init(CollectorObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "instance", "interval_ms", NULL };
	PyObject *name = Py_None;
	const char *instance = NULL;
	unsigned interval_ms = 0;

	if (self->m != NULL) {
		PyErr_SetString(PyExc_RuntimeError, "the collector is already open");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OzI", kwlist, &name, &instance,
					 &interval_ms))
		return -1;
	if (name != Py_None && !PyUnicode_Check(name)) {
		PyErr_SetString(PyExc_TypeError, "name must be a str or None");
		return -1;
	}
	const char *cname = name == Py_None ? NULL : PyUnicode_AsUTF8(name);
	if (name != Py_None && cname == NULL)
		return -1;
	struct shmetrics_options o = { .instance = instance, .interval_ms = interval_ms };
	struct shmetrics *m = shmetrics_open(cname, &o);
	if (m == NULL) {
		PyErr_SetString(PyExc_OSError, shmetrics_last_error());
		return -1;
	}
	self->m = m;
	self->name = PyUnicode_FromString(shmetrics_collector_name(m));
	return self->name ? 0 : -1;
}

static void collector_dealloc(CollectorObject *self)
{
	if (self->m != NULL)
		shmetrics_close(self->m); /* a last publish */
	Py_XDECREF(self->name);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *collector_get_name(CollectorObject *self, void *closure)
{
	(void)closure;
	if (self->name == NULL)
		Py_RETURN_NONE;
	Py_INCREF(self->name);
	return self->name;
}

static PyObject *collector_get_interval(CollectorObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLong(self->m ? shmetrics_interval_ms(self->m) : 0);
}

static PyObject *collector_get_slot(CollectorObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(self->m ? shmetrics_worker_slot(self->m) : -1);
}

static PyObject *collector_get_closed(CollectorObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->m == NULL);
}

static PyMethodDef collector_methods[] = {
	{ "family", (PyCFunction)(void (*)(void))collector_family, METH_VARARGS | METH_KEYWORDS,
	  "Registers a family (the package's counter(), gauge() and histogram() call it)." },
	{ "publish", (PyCFunction)collector_publish, METH_NOARGS,
	  "publish(): publish every series now, besides the interval." },
	{ "close", (PyCFunction)collector_close, METH_NOARGS,
	  "close(): publish a last time and detach; the collector is unusable after." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef collector_getset[] = {
	{ "name", (getter)collector_get_name, NULL, "The collector's name.", NULL },
	{ "interval_ms", (getter)collector_get_interval, NULL, "The publish interval in ms.",
	  NULL },
	{ "worker_slot", (getter)collector_get_slot, NULL,
	  "This process's worker slot, or -1 (no workers, or not attached yet after a fork).",
	  NULL },
	{ "closed", (getter)collector_get_closed, NULL, "True once closed.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject CollectorType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._shmetrics.Collector",
	.tp_basicsize = sizeof(CollectorObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "A custom collector of a shmetrics agent, attached by this process.",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)collector_init,
	.tp_dealloc = (destructor)collector_dealloc,
	.tp_methods = collector_methods,
	.tp_getset = collector_getset,
};

/* ---- the module ---- */

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "shmetrics._shmetrics",
	.m_doc = "libshmetrics for Python (use the shmetrics package).",
	.m_size = -1,
};

static int add_type(PyObject *mod, PyTypeObject *t, const char *name)
{
	if (PyType_Ready(t) < 0)
		return -1;
	Py_INCREF(t);
	if (PyModule_AddObject(mod, name, (PyObject *)t) < 0) {
		Py_DECREF(t);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__shmetrics(void);

PyMODINIT_FUNC PyInit__shmetrics(void)
{
	PyObject *mod = PyModule_Create(&module);

	if (mod == NULL)
		return NULL;
	if (add_type(mod, &CollectorType, "Collector") < 0 ||
	    add_type(mod, &FamilyType, "Family") < 0 || add_type(mod, &SeriesType, "Series") < 0 ||
	    PyModule_AddIntConstant(mod, "COUNTER", KIND_COUNTER) < 0 ||
	    PyModule_AddIntConstant(mod, "GAUGE", KIND_GAUGE) < 0 ||
	    PyModule_AddIntConstant(mod, "HISTOGRAM", KIND_HISTOGRAM) < 0) {
		Py_DECREF(mod);
		return NULL;
	}
	return mod;
}
