# Debian package: `cpack -G DEB` in the build folder (or `cmake --build build --target package`).
# Installs the two programs, the model manifest, the model fetch script, the desktop entry
# and the icons. Model files are not packaged: `ideudemon-fetch-models` downloads and
# verifies them into ~/.local/share/ideudemon/models (or $IDEU_MODELS).
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ideudemon")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "IDEudemon developers")
set(CPACK_PACKAGE_CONTACT "IDEudemon developers <dev@ideudemon.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Face de-identification for photos (two-step IDEudemon method)")
set(CPACK_DEBIAN_PACKAGE_SECTION "graphics")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libqt6widgets6, libqt6concurrent6, libqt6printsupport6, libqcustomplot2.1-qt6 | libqcustomplot2.1, libtorch1.13, libopencv-imgcodecs406, libopencv-imgproc406, libopencv-photo406, libopencv-calib3d406, libdlib19.1, libdlib-data, libopenblas0-openmp, jq, npm, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "IDEudemon replaces the identity of every face in a photo: Step I perturbs the identity code of a\n fitted 3-D face model, Step II keeps hair, background and body and blends a photo-real face back.\n Run ideudemon-fetch-models once to download and verify the model files.")
install(PROGRAMS ${CMAKE_SOURCE_DIR}/packaging/fetch_models.sh DESTINATION bin RENAME ideudemon-fetch-models)
include(CPack)
