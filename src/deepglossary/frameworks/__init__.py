"""Small working models of the frameworks of the Frameworks and community part.

One module a framework, each the framework's core idea built small on NumPy and checked against
PyTorch: ``theano`` (symbolic expressions, graph rewrites, compilation), ``tensorflow``
(define-then-run dataflow graphs and sessions), ``caffe`` (networks declared in prototxt) and
``keras`` (``Sequential``, ``compile``, ``fit``). Import the module you need, e.g.
``from deepglossary.frameworks import theano as th``.
"""
